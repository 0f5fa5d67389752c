"""Development provider: logs the message and appends it to var/sms-outbox.jsonl."""

from __future__ import annotations

import fcntl
import json
import logging
import uuid
from pathlib import Path

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
        line = json.dumps({"to": to, "text": body, "sent_at": utcnow().isoformat()}, ensure_ascii=False)
        self.outbox.parent.mkdir(parents=True, exist_ok=True)
        with self.outbox.open("a", encoding="utf-8") as fh:
            # Several app processes may append at once; one line each, never interleaved.
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.write(line + "\n")
            fcntl.flock(fh, fcntl.LOCK_UN)
        logger.info("SMS to %s: %s", to, body)
        return SmsReceipt(provider=self.name, message_id=uuid.uuid4().hex)


def read_outbox(outbox: Path) -> list[dict]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines() if line.strip()]
