"""Development provider: logs the e-mail and appends it to var/email-outbox.jsonl."""

from __future__ import annotations

import fcntl
import json
import logging
import uuid
from pathlib import Path

from core.email.base import EmailReceipt
from core.models import utcnow

logger = logging.getLogger("orderdesk.email")


class ConsoleEmail:
    name = "console"

    def __init__(self, outbox: Path, *, sender: str = "") -> None:
        self.outbox = outbox
        self.sender = sender

    def send(self, to: str, subject: str, text: str) -> EmailReceipt:
        line = json.dumps({"from": self.sender, "to": to, "subject": subject, "text": text,
                           "sent_at": utcnow().isoformat()}, ensure_ascii=False)
        self.outbox.parent.mkdir(parents=True, exist_ok=True)
        with self.outbox.open("a", encoding="utf-8") as fh:
            # Several worker processes may append at once; one line each, never interleaved.
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.write(line + "\n")
            fcntl.flock(fh, fcntl.LOCK_UN)
        logger.info("e-mail to %s: %s", to, subject)
        return EmailReceipt(provider=self.name, message_id=uuid.uuid4().hex)


def read_outbox(outbox: Path) -> list[dict]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines() if line.strip()]
