"""The numbers an operator checks first in a peak sale."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, type_coerce
from sqlmodel import select

from core.db import Database
from core.jobs.tasks import JOBS
from core.models import JobRun, Order, OrderStatus, UTCDateTime, utcnow
from core.services.channels.order_import.runs import import_errors
from core.services.messaging import delivery


@dataclass
class HealthFigures:
    orders_by_hour: dict[str, Counter]  # channel -> {hour label: count}
    hours: list[datetime]
    outbox: delivery.OutboxStats
    job_lag: list[tuple[str, datetime | None, float | None, str]]  # name, last finished, seconds late, outcome
    overdue_shipments: int
    status_counts: Counter
    import_errors: object = field(default=None)  # order_import.runs.ImportErrors of the last 24 h


def figures(db: Database, now: datetime | None = None, hours: int = 24) -> HealthFigures:
    now = now or utcnow()
    since = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    with db.read() as session:
        rows = session.exec(select(Order.channel, type_coerce(Order.created_at, UTCDateTime()))
                            .where(Order.created_at >= since)).all()
        runs = {run.name: run for run in session.exec(select(JobRun)).all()}
        overdue = session.exec(select(func.count()).select_from(Order).where(
            Order.status == OrderStatus.SHIPPED, Order.promised_delivery_by < now)).one()
        statuses = Counter(dict(session.exec(select(Order.status, func.count()).group_by(Order.status)).all()))
    per_channel: dict[str, Counter] = defaultdict(Counter)
    for channel, created in rows:
        per_channel[channel][created.replace(minute=0, second=0, microsecond=0)] += 1
    lag = []
    for job in JOBS:
        run = runs.get(job.name)
        finished = run.finished_at if run else None
        late = None if finished is None else max((now - finished - job.every).total_seconds(), 0.0)
        lag.append((job.name, finished, late, run.outcome if run else ""))
    return HealthFigures(orders_by_hour=dict(per_channel), hours=[since + timedelta(hours=i) for i in range(hours)],
                         outbox=delivery.stats(db), job_lag=lag, overdue_shipments=overdue,
                         status_counts=statuses, import_errors=_import_errors(db, now))


def _import_errors(db: Database, now: datetime):  # noqa: ANN202
    return import_errors(db, now)


def prometheus(db: Database, now: datetime | None = None) -> str:
    now = now or utcnow()
    data = figures(db, now)
    lines = ["# HELP orderdesk_orders Orders by status.", "# TYPE orderdesk_orders gauge"]
    lines += [f'orderdesk_orders{{status="{s}"}} {n}' for s, n in sorted(data.status_counts.items())]
    lines += ["# HELP orderdesk_orders_last_hour Orders created in the last hour by channel.",
              "# TYPE orderdesk_orders_last_hour gauge"]
    hour = now.replace(minute=0, second=0, microsecond=0)
    for channel, counts in sorted(data.orders_by_hour.items()):
        lines.append(f'orderdesk_orders_last_hour{{channel="{channel}"}} {counts.get(hour, 0)}')
    lines += ["# HELP orderdesk_outbox_messages Outbox messages by status.", "# TYPE orderdesk_outbox_messages gauge"]
    lines += [f'orderdesk_outbox_messages{{status="{s}"}} {data.outbox.by_status.get(s, 0)}'
              for s in ("pending", "sending", "sent", "dead")]
    lines += ["# HELP orderdesk_job_lag_seconds Seconds a periodic job is behind its interval (-1: never ran).",
              "# TYPE orderdesk_job_lag_seconds gauge"]
    lines += [f'orderdesk_job_lag_seconds{{job="{name}"}} {late if late is not None else -1:.0f}'
              for name, _, late, _ in data.job_lag]
    lines += ["# HELP orderdesk_shipments_overdue Shipped orders past their promised delivery time.",
              "# TYPE orderdesk_shipments_overdue gauge", f"orderdesk_shipments_overdue {data.overdue_shipments}"]
    lines += ["# HELP orderdesk_import_rejected_rows Rows refused by order imports in the last 24 hours.",
              "# TYPE orderdesk_import_rejected_rows gauge",
              f"orderdesk_import_rejected_rows {data.import_errors.rejected_rows}",
              "# HELP orderdesk_import_failed_runs Order imports that could not read their file (last 24 hours).",
              "# TYPE orderdesk_import_failed_runs gauge",
              f"orderdesk_import_failed_runs {data.import_errors.failed_runs}"]
    return "\n".join(lines) + "\n"


