"""Weekly trends of triage tags: what was opened, where, and how fast it was resolved.

Every figure is an aggregate computed in SQL (GROUP BY, window functions for the medians): the
report reads a handful of rows whatever the number of orders or tags.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, literal_column
from sqlmodel import Session, func, select

from core.db import Database
from core.errors import InvalidInput
from core.i18n import N_
from core.models import Order, OrderTag, TriageTag, Warehouse
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.identity.permissions import Permission

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
TOP = 5


@dataclass(frozen=True)
class Week:
    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Monday 00:00 to the next Monday 00:00 in the viewer's zone, as UTC."""
        start = datetime.combine(self.monday, time.min, zone)
        return start.astimezone(UTC), (start + timedelta(days=7)).astimezone(UTC)

    def previous(self) -> Week:
        return Week.of(self.monday - timedelta(days=7))

    def next(self) -> Week:
        return Week.of(self.monday + timedelta(days=7))

    @staticmethod
    def of(day: date) -> Week:
        year, number, _ = day.isocalendar()
        return Week(year, number)

    @staticmethod
    def parse(text: str) -> Week:
        match = _WEEK.match(text.strip())
        if match:
            year, number = int(match[1]), int(match[2])
            try:
                date.fromisocalendar(year, number, 1)
            except ValueError:
                pass
            else:
                return Week(year, number)
        raise InvalidInput("week", N_("Give the week as YYYY-Www, for example 2026-W47."))


@dataclass
class Row:
    key: str | None
    current: int = 0
    previous: int = 0

    @property
    def change(self) -> int:
        return self.current - self.previous

    @property
    def change_percent(self) -> int | None:
        """Rounded percent against last week; None when last week had none."""
        return round(100 * self.change / self.previous) if self.previous else None


@dataclass
class WeeklyReport:
    week: Week
    total: Row
    by_tag: list[Row]
    by_channel: list[Row]
    by_warehouse: list[Row]
    top: list[tuple[str, str, int]]  # (tag, channel, tags opened) this week
    resolved: Row
    median_seconds: tuple[float | None, float | None]  # this week, last week
    median_by_tag: dict[str, float] = field(default_factory=dict)  # this week
    warehouse_names: dict[str, str] = field(default_factory=dict)


def _rows(raw: list[tuple[str, object, int]], keys: list | None = None) -> list[Row]:
    rows: dict = {key: Row(key) for key in keys or []}
    for bucket, key, count in raw:
        row = rows.setdefault(key, Row(key))
        if bucket == "current":
            row.current = int(count)
        else:
            row.previous = int(count)
    return sorted(rows.values(), key=lambda r: (-r.current, -r.previous, str(r.key)))


def _bucket(column, middle: datetime):  # noqa: ANN001, ANN202
    """'current' for this week, 'previous' for last week; SQL literals rather than bound
    parameters so that PostgreSQL sees the same expression in SELECT and GROUP BY."""
    return case((column >= middle, literal_column("'current'")), else_=literal_column("'previous'"))


def _opened_by(session: Session, column, start: datetime, middle: datetime, end: datetime) -> list:  # noqa: ANN001
    bucket = _bucket(OrderTag.opened_at, middle)
    statement = select(bucket, column, func.count(OrderTag.id)).where(
        OrderTag.opened_at >= start, OrderTag.opened_at < end)
    if column is not OrderTag.tag:
        statement = statement.join(Order, Order.id == OrderTag.order_id)
    return list(session.exec(statement.group_by(bucket, column)).all())


def _duration_seconds(session: Session):  # noqa: ANN202
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", OrderTag.resolved_at - OrderTag.opened_at)
    return (func.julianday(OrderTag.resolved_at) - func.julianday(OrderTag.opened_at)) * 86400.0


def _medians(session: Session, start: datetime, middle: datetime, end: datetime, *, per_tag: bool) -> list:
    """Median time to resolve of the tags resolved in each week: the middle row (or the mean
    of the two middle rows) by row_number over the durations, on SQLite and PostgreSQL alike."""
    bucket = _bucket(OrderTag.resolved_at, middle)
    group = (bucket, OrderTag.tag) if per_tag else (bucket,)
    seconds = _duration_seconds(session)
    ranked = select(*[g.label(f"g{i}") for i, g in enumerate(group)], seconds.label("seconds"),
                    func.row_number().over(partition_by=group, order_by=seconds).label("n"),
                    func.count().over(partition_by=group).label("total")).where(
        OrderTag.resolved_at >= start, OrderTag.resolved_at < end).subquery()
    keys = [ranked.c[f"g{i}"] for i in range(len(group))]
    middle_rows = ranked.c.n.in_([(ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2])
    return list(session.exec(select(*keys, func.avg(ranked.c.seconds)).where(middle_rows).group_by(*keys)).all())


def weekly(db: Database, week: Week, zone: ZoneInfo) -> WeeklyReport:
    with db.read() as session:
        return _weekly(session, week, zone)


def export_weekly(db: Database, actor: Actor, week: Week, zone: ZoneInfo) -> bytes:
    """The week's report as CSV, handed out only with its audit entry written. The figures are
    read first and the entry appended last, so the audit trail's lock is held only for the append."""
    actor.require(Permission.VIEW_REPORTS)
    with db.write() as session:
        report = _weekly(session, week, zone)
        audit.append(session, actor, "export_weekly_report", detail={"week": week.label})
    return to_csv(report)


def _weekly(session: Session, week: Week, zone: ZoneInfo) -> WeeklyReport:
    start, middle = week.previous().bounds(zone)[0], week.bounds(zone)[0]
    end = week.bounds(zone)[1]
    by_tag = _rows(_opened_by(session, OrderTag.tag, start, middle, end), keys=list(TriageTag))
    by_channel = _rows(_opened_by(session, Order.channel, start, middle, end))
    by_warehouse = _rows(_opened_by(session, Order.warehouse_id, start, middle, end))
    top = session.exec(
        select(OrderTag.tag, Order.channel, func.count(OrderTag.id).label("n"))
        .join(Order, Order.id == OrderTag.order_id)
        .where(OrderTag.opened_at >= middle, OrderTag.opened_at < end)
        .group_by(OrderTag.tag, Order.channel)
        .order_by(func.count(OrderTag.id).desc(), OrderTag.tag, Order.channel).limit(TOP)).all()
    resolved_bucket = _bucket(OrderTag.resolved_at, middle)
    resolved = _rows(session.exec(
        select(resolved_bucket, literal_column("'resolved'"), func.count(OrderTag.id))
        .where(OrderTag.resolved_at >= start, OrderTag.resolved_at < end).group_by(resolved_bucket)).all())
    overall = {bucket: float(value) for bucket, value in _medians(session, start, middle, end, per_tag=False)}
    by_tag_median = {tag: float(value) for bucket, tag, value in _medians(session, start, middle, end,
                                                                            per_tag=True) if bucket == "current"}
    names = {str(w.id): f"{w.code} {w.name}" for w in session.exec(select(Warehouse)).all()}
    total = Row("total", sum(r.current for r in by_tag), sum(r.previous for r in by_tag))
    for row in by_warehouse:
        row.key = str(row.key) if row.key is not None else None
    return WeeklyReport(
        week=week, total=total, by_tag=by_tag, by_channel=by_channel, by_warehouse=by_warehouse,
        top=[(tag, channel, int(n)) for tag, channel, n in top],
        resolved=resolved[0] if resolved else Row("resolved"),
        median_seconds=(overall.get("current"), overall.get("previous")), median_by_tag=by_tag_median,
        warehouse_names=names)


def to_csv(report: WeeklyReport) -> bytes:
    """Section, key, this week, last week, change. Aggregates only: no personal data in it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "key", report.week.label, report.week.previous().label, "change"])
    writer.writerow(["total", "tags_opened", report.total.current, report.total.previous, report.total.change])
    for section, rows in (("tag", report.by_tag), ("channel", report.by_channel),
                          ("warehouse", report.by_warehouse)):
        for row in rows:
            key = report.warehouse_names.get(row.key, row.key) if section == "warehouse" else row.key
            writer.writerow([section, key or "", row.current, row.previous, row.change])
    for tag, channel, count in report.top:
        writer.writerow(["top", f"{tag} × {channel}", count, "", ""])
    writer.writerow(["resolved", "tags_resolved", report.resolved.current, report.resolved.previous,
                     report.resolved.change])
    current, previous = report.median_seconds
    writer.writerow(["median_hours_to_resolve", "all", _hours(current), _hours(previous), ""])
    for tag, seconds in sorted(report.median_by_tag.items()):
        writer.writerow(["median_hours_to_resolve", tag, _hours(seconds), "", ""])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _hours(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 3600:.1f}"
