from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class EmailError(Exception):
    """The provider did not take the e-mail. `final`: trying again cannot help (the server
    refused the recipient for good)."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


@dataclass(frozen=True)
class EmailReceipt:
    provider: str
    message_id: str


class EmailProvider(Protocol):
    name: str

    def send(self, to: str, subject: str, text: str) -> EmailReceipt:
        """Send a plain-text e-mail to `to`; raise EmailError if it cannot be sent."""
        ...
