"""An SMS provider that keeps what would have been texted, for the sign-in tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.sms import SmsReceipt


@dataclass
class RecordingSms:
    name: str = "recording"
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, to: str, text: str) -> SmsReceipt:
        self.sent.append((to, text))
        return SmsReceipt(provider=self.name, message_id=str(len(self.sent)))

    def code_for(self, phone_e164: str) -> str:
        """The code in the latest text to the phone."""
        texts = [text for to, text in self.sent if to == phone_e164]
        assert texts, f"nothing was texted to {phone_e164}"
        return re.search(r"Your code: (\S+)", texts[-1]).group(1)
