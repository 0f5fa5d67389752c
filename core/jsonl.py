"""Files of one JSON record per line, appended by several processes at once (the development
SMS and e-mail outboxes): each record is one whole line, never interleaved with another."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path


def append(path: Path, record: dict) -> None:
    line = json.dumps(record, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line + "\n")
        fcntl.flock(handle, fcntl.LOCK_UN)


def read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
