from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SmsError(Exception):
    """The provider did not accept the message (after its retries)."""


@dataclass(frozen=True)
class SmsReceipt:
    provider: str
    message_id: str


class SmsProvider(Protocol):
    name: str

    def send(self, to: str, text: str) -> SmsReceipt:
        """Send `text` to the E.164 number `to`; raise SmsError if it cannot be sent."""
        ...
