"""The periodic jobs. Each is idempotent: running it twice, or again after a
worker died half-way, has the effect of running it once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from core.carriers.kuaidi100 import Kuaidi100Client
from core.config import Settings
from core.db import Database
from core.email import get_email_provider
from core.models import JobRun, Order, OrderStatus, Shipment, SkuStock, utcnow
from core.services.actors import Actor
from core.services.channels import api_keys, idempotency
from core.services.messaging import delivery
from core.services.orders import promises
from core.services.orders import retention as retention_service
from core.services.tracking.polling import poll_round
from core.services.triage.engine import scan
from core.sms import get_sms_provider
from core.storage import get_photo_storage

logger = logging.getLogger("orderdesk.jobs")


def deliver_outbox(db: Database, settings: Settings, now: datetime) -> str:
    with delivery.wechat_sender(db, settings) as wechat:
        result = delivery.deliver_due(db, get_sms_provider(settings), wechat=wechat,
                                           email=get_email_provider(settings), now=now, batch=200,
                                           lease=timedelta(seconds=settings.outbox_lease_seconds))
    return (f"sent {result.sent}, retrying {result.retried}, dead {result.dead}"
            + (f", {result.fallbacks} WeChat messages sent by SMS instead" if result.fallbacks else ""))


def poll_carriers(db: Database, settings: Settings, now: datetime) -> str:
    if not settings.carrier_polling_configured:
        return "not configured (KUAIDI100_CUSTOMER and KUAIDI100_KEY, or KUAIDI100_BASE_URL for the simulator)"
    customer, key = settings.query_credentials
    client = Kuaidi100Client(base_url=settings.kuaidi100_base_url, customer=customer, key=key)
    result = poll_round(db, client, now=now)
    return f"polled {result.polled}, new events {result.added}, failed {len(result.failed)}"


def stale_shipments(db: Database, settings: Settings, now: datetime) -> str:
    """Parcels without a carrier update for 24 h / 48 h (the triage queue shows them)."""
    with db.read() as session:
        base = select(func.count()).select_from(Shipment).where(Shipment.delivered_at.is_(None))
        quiet_24 = session.exec(base.where(Shipment.last_event_at < now - timedelta(hours=24))).one()
        quiet_48 = session.exec(base.where(Shipment.last_event_at < now - timedelta(hours=48))).one()
        no_pickup = session.exec(base.where(Shipment.last_event_at.is_(None),
                                            Shipment.shipped_at < now - timedelta(hours=24))).one()
    return f"no update 24 h: {quiet_24}, 48 h: {quiet_48}, no pickup 24 h after shipping: {no_pickup}"


def promise_breaches(db: Database, settings: Settings, now: datetime) -> str:
    """Tell each customer once when their parcel passes its promised delivery time."""
    result = promises.tell_customers_of_broken_promises(db, settings, now)
    return f"{result.late} orders past their promise, {result.newly_told} newly told"


def consistency_check(db: Database, settings: Settings, now: datetime) -> str:
    """Orders vs shipments vs stock: differences are reported, never silently fixed."""
    problems: list[str] = []
    with db.read() as session:
        shipped_without = session.exec(
            select(Order.ref).where(Order.status.in_([OrderStatus.SHIPPED, OrderStatus.DELIVERED]),
                                    ~Order.id.in_(select(Shipment.order_id)))).all()
        problems += [f"{ref}: shipped without a shipment" for ref in shipped_without]
        unshipped_with = session.exec(
            select(Order.ref).where(Order.status.in_([OrderStatus.PENDING_PAYMENT, OrderStatus.PAID]),
                                    Order.id.in_(select(Shipment.order_id)))).all()
        problems += [f"{ref}: has a shipment but is not shipped" for ref in unshipped_with]
        over = session.exec(select(SkuStock.sku, SkuStock.warehouse_id).where(SkuStock.reserved > SkuStock.on_hand)).all()
        problems += [f"{sku}@{wh}: more reserved than on hand" for sku, wh in over]
    for problem in problems:
        logger.warning("consistency: %s", problem)
    return f"{len(problems)} differences" + (": " + "; ".join(problems[:20]) if problems else "")


def retention(db: Database, settings: Settings, now: datetime) -> str:
    """Anonymise the personal data of orders completed longer ago than the retention period.
    The order, its amounts and its carrier-event chain stay (and stay verifiable)."""
    years = retention_service.retention_years(settings.retention_years)
    actor = Actor.system(via="job")
    storage = get_photo_storage(settings)
    done = photos = 0
    while True:
        batch = retention_service.anonymise_batch(db, actor, years=years, now=now)
        done += batch.orders
        photos += len(batch.photo_keys)
        # After the commit: a failed transaction must not leave rows pointing at deleted photos.
        for key in batch.photo_keys:
            try:
                storage.delete(key)
            except Exception:
                logger.exception("retention: photo %s could not be deleted; delete it by hand", key)
        if batch.orders < retention_service.BATCH:
            break
    return f"{done} orders anonymised (older than {years} years), {photos} photos deleted"


def triage_scan(db: Database, settings: Settings, now: datetime) -> str:
    result = scan(db, now)
    return f"{result.orders} orders checked, {result.opened} tags opened, {result.already_open} already open"


def purge_idempotency(db: Database, settings: Settings, now: datetime) -> str:
    """Push-API answers kept for Idempotency-Key replays live 24 hours; per-minute request counts, one."""
    answers = idempotency.purge(db, now)
    windows = api_keys.purge_rate_windows(db, now)
    return f"{answers} idempotency entries older than 24 h removed, {windows} rate-limit counts older than 1 h"


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Database, Settings, datetime], str]
    every: timedelta
    cron: str


JOBS = [
    Job("deliver_outbox", deliver_outbox, timedelta(seconds=15), "* * * * * */15"),
    Job("poll_carriers", poll_carriers, timedelta(minutes=30), "*/30 * * * *"),
    Job("stale_shipments", stale_shipments, timedelta(hours=1), "5 * * * *"),
    Job("promise_breaches", promise_breaches, timedelta(minutes=15), "*/15 * * * *"),
    Job("triage_scan", triage_scan, timedelta(minutes=15), "*/15 * * * *"),
    Job("consistency_check", consistency_check, timedelta(days=1), "30 3 * * *"),
    Job("retention", retention, timedelta(days=1), "45 3 * * *"),
    Job("purge_idempotency", purge_idempotency, timedelta(hours=1), "50 * * * *"),
]
JOBS_BY_NAME = {job.name: job for job in JOBS}


def run_job(db: Database, settings: Settings, name: str, now: datetime | None = None) -> str:
    """Run one job and record its last run (for the operator's job-lag figure)."""
    job = JOBS_BY_NAME[name]
    started = utcnow()
    with db.write() as session:
        row = session.get(JobRun, name) or JobRun(name=name, started_at=started)
        row.started_at, row.finished_at = started, None
        session.add(row)
    outcome = job.run(db, settings, now or started)
    with db.write() as session:
        row = session.get(JobRun, name)
        row.finished_at, row.outcome = utcnow(), outcome[:500]
        session.add(row)
    logger.info("job %s: %s", name, outcome)
    return outcome
