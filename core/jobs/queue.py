"""Jobs on PostgreSQL with procrastinate: workers on any number of machines,
periodic tasks deferred once per tick whatever the worker count (queueing
locks), retries, and jobs of a worker that died picked up again."""

from __future__ import annotations

import logging
from datetime import timedelta

import procrastinate
from sqlalchemy.engine import make_url

from core.config import Settings, get_settings
from core.db import get_database
from core.jobs.tasks import JOBS, run_job

logger = logging.getLogger("orderdesk.jobs")
STALLED_AFTER = timedelta(seconds=30)


def conninfo(database_url: str) -> str:
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(settings: Settings | None = None) -> procrastinate.App:
    settings = settings or get_settings()
    app_async = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(settings.database_url)))

    for job in JOBS:
        def body(timestamp: int, name: str = job.name) -> None:
            run_job(get_database(get_settings().database_url), get_settings(), name)

        task = app_async.task(name=f"orderdesk.{job.name}", queue="periodic", queueing_lock=job.name,
                              retry=procrastinate.RetryStrategy(max_attempts=3, exponential_wait=10))(body)
        app_async.periodic(cron=job.cron, periodic_id=job.name)(task)

    @app_async.periodic(cron="* * * * *", periodic_id="retry_stalled")
    @app_async.task(name="orderdesk.retry_stalled_jobs", queue="periodic", queueing_lock="retry_stalled",
                    pass_context=True)
    async def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> None:
        manager = context.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER.total_seconds()):
            logger.warning("job %s (%s) was left by a dead worker; retrying it", job.id, job.task_name)
            await manager.retry_job(job)

    return app_async


def ensure_schema(settings: Settings | None = None) -> bool:
    """Apply procrastinate's schema once (it lives beside ours, outside Alembic)."""
    import psycopg

    settings = settings or get_settings()
    with psycopg.connect(conninfo(settings.database_url)) as conn:
        exists = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]
    if exists:
        return False
    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo(settings.database_url)))
    with app.open():
        app.schema_manager.apply_schema()
    return True


def run_worker(settings: Settings | None = None, *, concurrency: int = 2) -> None:
    app = build_app(settings)
    app.run_worker(queues=["periodic"], concurrency=concurrency, update_heartbeat_interval=5,
                   stalled_worker_timeout=STALLED_AFTER.total_seconds())
