"""Development provider: logs the message and appends it to var/sms-outbox.jsonl."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from core import jsonl
from core.models import utcnow
from core.sms.base import SmsReceipt

logger = logging.getLogger("orderdesk.sms")


class ConsoleSms:
    name = "console"

    def __init__(self, outbox: Path, *, signature: str = "") -> None:
        self.outbox = outbox
        self.signature = signature

    def send(self, to: str, text: str) -> SmsReceipt:
        body = f"【{self.signature}】{text}" if self.signature else text
        jsonl.append(self.outbox, {"to": to, "text": body, "sent_at": utcnow().isoformat()})
        logger.info("SMS to %s: %s", to, body)
        return SmsReceipt(provider=self.name, message_id=uuid.uuid4().hex)


def read_outbox(outbox: Path) -> list[dict]:
    return jsonl.read(outbox)
