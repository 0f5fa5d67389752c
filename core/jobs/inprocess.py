"""The embedded scheduler: on SQLite, `orderdesk serve` runs the jobs in a
background thread, so a single-machine install needs nothing else.

The thread is started inside a server worker, after the server has forked it,
never in the process that forks: a thread running at the moment of a fork can
hold an import or logging lock that the child then inherits, held by nobody,
and the child's first import of that module waits forever. (It happened: with
granian's forked workers, every sign-in hung on importing httpx's transport.)
With several workers, one is elected by an exclusive lock on a file in the var
directory; if that worker dies, the lock goes with it and its replacement runs
the jobs."""

from __future__ import annotations

import fcntl
import logging
import os
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




# Set by `orderdesk serve` for the server's workers: run the jobs in one of them.
EMBEDDED_JOBS_ENV = "ORDERDESK_EMBEDDED_JOBS"
_elected: list = []  # the lock file held for the life of the worker, and its scheduler


def start_if_elected(db: Database, settings: Settings) -> Scheduler | None:
    """In the worker that wins the lock, start the scheduler; elsewhere do nothing."""
    if os.environ.get(EMBEDDED_JOBS_ENV) != "1" or _elected:
        return None
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    lock = open(settings.var_dir / "jobs.lock", "a")  # noqa: SIM115 (held open for the process's life)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    scheduler = Scheduler(db, settings)
    scheduler.start()
    _elected.extend([lock, scheduler])
    logger.info("periodic jobs run in this worker (pid %s)", os.getpid())
    return scheduler


def stop_elected() -> None:
    if _elected:
        lock, scheduler = _elected
        scheduler.stop()
        lock.close()
        _elected.clear()
