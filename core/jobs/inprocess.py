"""The embedded scheduler: on SQLite, `orderdesk serve` runs the jobs in a
background thread, so a single-machine install needs nothing else."""

from __future__ import annotations

import logging
import threading
import time

from core.config import Settings
from core.db import Database
from core.jobs.tasks import JOBS, run_job

logger = logging.getLogger("orderdesk.jobs")


class Scheduler:
    def __init__(self, db: Database, settings: Settings, *, tick: float = 1.0) -> None:
        self.db, self.settings, self.tick = db, settings, tick
        self._stop = threading.Event()
        self._last: dict[str, float] = {}

    def run_due(self, now: float | None = None) -> list[str]:
        now = now if now is not None else time.monotonic()
        ran = []
        for job in JOBS:
            last = self._last.get(job.name)
            if last is None or now - last >= job.every.total_seconds():
                self._last[job.name] = now
                try:
                    run_job(self.db, self.settings, job.name)
                except Exception:
                    logger.exception("job %s failed; it runs again at its next interval", job.name)
                ran.append(job.name)
        return ran

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(self.tick)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="orderdesk-jobs", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()


