"""Development provider: logs the e-mail and appends it to var/email-outbox.jsonl."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from core import jsonl
from core.email.base import EmailReceipt
from core.models import utcnow

logger = logging.getLogger("orderdesk.email")


class ConsoleEmail:
    name = "console"

    def __init__(self, outbox: Path, *, sender: str = "") -> None:
        self.outbox = outbox
        self.sender = sender

    def send(self, to: str, subject: str, text: str) -> EmailReceipt:
        jsonl.append(self.outbox, {"from": self.sender, "to": to, "subject": subject, "text": text,
                                   "sent_at": utcnow().isoformat()})
        logger.info("e-mail to %s: %s", to, subject)
        return EmailReceipt(provider=self.name, message_id=uuid.uuid4().hex)


def read_outbox(outbox: Path) -> list[dict]:
    return jsonl.read(outbox)
