"""What every photo store offers, and its one error."""

from __future__ import annotations

from typing import Protocol


class PhotoNotFound(Exception):
    """No object under this key."""


class PhotoStorage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Remove the object; a key that is already gone is not an error."""
