"""Working the triage queues: list a team's open tags; reveal, assign, reply, resolve (each one
use case: the scope check under the order's row lock, the change and its audit entry in one transaction)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from babel.dates import format_datetime
from sqlalchemy import case
from sqlmodel import Session, func, select

from core.config import get_settings
from core.db import Database
from core.errors import InvalidInput, NotFound, TransitionNotAllowed
from core.i18n import N_
from core.models import Order, OrderTag, Staff, TriageQueue, TriageRule, utcnow
from core.money import format_money
from core.paging import clamp_page
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.identity.permissions import Permission, Role
from core.services.orders import lifecycle as order_service
from core.services.orders.addresses import mask_name

PAGE_SIZE = 50
QUEUE_OF_ROLE = {Role.SUPPORT: TriageQueue.CUSTOMER_SERVICE, Role.WAREHOUSE: TriageQueue.WAREHOUSE,
                 Role.COMPLIANCE: TriageQueue.COMPLIANCE}
CARRIER_NAMES_ZH = {"SF": "顺丰速运", "ZTO": "中通快递", "YTO": "圆通速递", "JD": "京东物流", "EMS": "中国邮政 EMS"}


def default_queue(staff: Staff) -> str:
    return QUEUE_OF_ROLE.get(staff.role, TriageQueue.CUSTOMER_SERVICE)


def _scoped(statement, staff: Staff):  # noqa: ANN001, ANN202
    """Warehouse staff see only their warehouse's orders, here as everywhere (the Actor's one rule)."""
    return Actor.staff_member(staff).limit_to_scope(statement)


@dataclass
class QueueRow:
    tag: OrderTag
    ref: str
    channel: str
    owner: str | None


@dataclass
class QueuePage:
    queue: str
    rows: list[QueueRow]
    page: int
    has_next: bool
    total: int
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # queue -> (open, overdue)
    now: datetime = field(default_factory=utcnow)


def queue_page(db: Database, staff: Staff, queue: str, *, tag: str = "", mine: bool = False, page: int = 1,
               now: datetime | None = None) -> QueuePage:
    """A team's open tags, oldest SLA breach first (then the ones due soonest)."""
    now = now or utcnow()
    page = clamp_page(page)
    with db.read() as session:
        base = _scoped(select(OrderTag, Order.ref, Order.channel, Staff.email)
                       .join(Order, Order.id == OrderTag.order_id)
                       .outerjoin(Staff, Staff.id == OrderTag.owner_id)
                       .where(OrderTag.resolved_at.is_(None), OrderTag.queue == queue), staff)
        if tag:
            base = base.where(OrderTag.tag == tag)
        if mine:
            base = base.where(OrderTag.owner_id == staff.id)
        total = session.exec(select(func.count()).select_from(base.subquery())).one()
        rows = session.exec(base.order_by(OrderTag.sla_due_at, OrderTag.opened_at, OrderTag.id)
                            .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
        overdue = func.sum(case((OrderTag.sla_due_at < now, 1), else_=0))
        counts = session.exec(_scoped(select(OrderTag.queue, func.count(), overdue)
                                      .join(Order, Order.id == OrderTag.order_id)
                                      .where(OrderTag.resolved_at.is_(None)), staff)
                              .group_by(OrderTag.queue)).all()
    return QueuePage(
        queue=queue, page=page, has_next=len(rows) > PAGE_SIZE, total=total, now=now,
        rows=[QueueRow(tag=t, ref=ref, channel=channel, owner=email) for t, ref, channel, email in rows[:PAGE_SIZE]],
        counts={q: (int(n), int(late or 0)) for q, n, late in counts},
    )


@dataclass
class TagView:
    tag: OrderTag
    order: Order
    rule: TriageRule | None
    other_tags: list[OrderTag]


def _view(session: Session, tag: OrderTag) -> TagView:
    """The tag with its full order (for the page), its rule and the order's other tags."""
    order = order_service.load_full_order(session, select(Order).where(Order.id == tag.order_id))
    rule = session.exec(select(TriageRule).where(TriageRule.code == tag.rule_code)).first()
    others = list(session.exec(select(OrderTag).where(OrderTag.order_id == tag.order_id, OrderTag.id != tag.id)
                               .order_by(OrderTag.opened_at.desc(), OrderTag.id.desc())).all())
    return TagView(tag=tag, order=order, rule=rule, other_tags=others)


def _visible_view(session: Session, actor: Actor, tag_id: int) -> TagView:
    tag = session.get(OrderTag, tag_id)
    if tag is None:
        raise NotFound(N_("No such tag."))
    view = _view(session, tag)
    if not actor.may_see(view.order):
        raise NotFound(N_("No such tag."))
    return view


def get_tag(db: Database, actor: Actor, tag_id: int) -> TagView:
    """The tag page as everyone sees it (personal data masked by the page): warehouse staff only
    their warehouse's tags."""
    with db.read() as session:
        return _visible_view(session, actor, tag_id)


def reveal_tag(db: Database, actor: Actor, tag_id: int) -> TagView:
    """The tag page with the customer's data in full: shown only with its audit entry written."""
    actor.require(Permission.VIEW_FULL_PII)
    with db.write() as session:
        view = _visible_view(session, actor, tag_id)
        audit.append(session, actor, "reveal", order_ref=view.order.ref, detail={"tag": tag_id})
    return view


def tags_of_order(db: Database, order_id: int) -> list[OrderTag]:
    with db.read() as session:
        return list(session.exec(select(OrderTag).where(OrderTag.order_id == order_id)
                                 .order_by(OrderTag.resolved_at.is_not(None), OrderTag.sla_due_at)).all())


def _lock_in_scope(session: Session, actor: Actor, tag_id: int) -> tuple[OrderTag, Order]:
    """Lock the tag's order (checking the actor's scope under that lock), then the tag: the order
    first, as every order action does, so two actions never wait on each other crosswise."""
    ref = session.exec(select(Order.ref).join(OrderTag, OrderTag.order_id == Order.id)
                       .where(OrderTag.id == tag_id)).first()
    if ref is None:
        raise NotFound(N_("No such tag."))
    try:
        order = order_service.lock_for(session, actor, ref)
    except NotFound:
        raise NotFound(N_("No such tag.")) from None
    tag = session.exec(select(OrderTag).where(OrderTag.id == tag_id).with_for_update()).first()
    if tag is None:
        raise NotFound(N_("No such tag."))
    return tag, order


def resolve_tag(db: Database, actor: Actor, tag_id: int, resolution: str, *,
                now: datetime | None = None) -> OrderTag:
    """Close a tag, recording who closed it and how."""
    actor.require(Permission.WORK_TRIAGE)
    resolution = resolution.strip()
    if not resolution:
        raise InvalidInput("resolution", N_("Say how the exception was resolved."))
    if len(resolution) > 2000:
        raise InvalidInput("resolution", N_("This is too long."))
    with db.write() as session:
        tag, order = _lock_in_scope(session, actor, tag_id)
        if tag.resolved_at is not None:
            raise TransitionNotAllowed(N_("%(who)s already resolved this tag."), who=tag.resolved_by)
        tag.resolved_at = now or utcnow()
        tag.resolved_by = actor.name
        tag.resolution = resolution
        session.add(tag)
        audit.append(session, actor, "triage_resolve", order_ref=order.ref,
                     detail={"tag": tag_id, "rule": tag.rule_code, "resolution": resolution[:500]})
    return tag


def assign_tag(db: Database, actor: Actor, tag_id: int, owner_id: int | None) -> OrderTag:
    """Give the tag to an active staff member, or to nobody (`owner_id` None)."""
    actor.require(Permission.WORK_TRIAGE)
    with db.write() as session:
        tag, order = _lock_in_scope(session, actor, tag_id)
        if owner_id is not None:
            owner = session.get(Staff, owner_id)
            if owner is None or not owner.active:
                raise InvalidInput("owner", N_("Choose an active staff member."))
        tag.owner_id = owner_id
        session.add(tag)
        audit.append(session, actor, "triage_assign", order_ref=order.ref, detail={"tag": tag_id, "owner": owner_id})
    return tag


# --- canned replies --------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def reply_values(order: Order, *, full_name: bool) -> dict[str, str]:
    """The order's fields as a customer reads them (Chinese, the configured time zone)."""
    settings = get_settings()
    shipment = order.shipments[-1] if order.shipments else None
    promised = order.promised_delivery_by
    values = {
        "ref": order.ref,
        "recipient": order.ship_recipient if full_name else mask_name(order.ship_recipient),
        "tracking_no": shipment.tracking_no if shipment else "—",
        "carrier": CARRIER_NAMES_ZH.get(shipment.carrier, shipment.carrier) if shipment else "—",
        "promised_delivery_by": format_datetime(promised, "yyyy-MM-dd HH:mm", tzinfo=settings.tz, locale="zh_CN")
        if promised else "—",
        "total": format_money(order.total_minor, order.currency, locale="zh_CN"),
        "paid": format_money(order.paid_minor, order.currency, locale="zh_CN") if order.paid_minor is not None
        else "—",
        "channel_order_no": order.channel_order_no,
    }
    return values


def fill_reply(template: str, values: dict[str, str]) -> str:
    """Replace {name} by its value. Not str.format: a template is staff input and must not
    reach attributes ({ref.__class__}); unknown names stay as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _reply_text(rule: TriageRule | None, order: Order, *, full_name: bool) -> str:
    template = json.loads(rule.params).get("reply", "") if rule else ""
    return fill_reply(template, reply_values(order, full_name=full_name))


def reply_for(view: TagView, *, full_name: bool) -> str:
    return _reply_text(view.rule, view.order, full_name=full_name)


def record_reply(db: Database, actor: Actor, tag_id: int, *, now: datetime | None = None) -> str:
    """Record the reply on the order's history. There is no SMS outbox yet (a later issue), so
    nothing is sent (and nothing is queued): the agent copies the text into the channel's chat."""
    actor.require(Permission.WORK_TRIAGE)
    with db.write() as session:
        tag, order = _lock_in_scope(session, actor, tag_id)
        rule = session.exec(select(TriageRule).where(TriageRule.code == tag.rule_code)).first()
        text = _reply_text(rule, order, full_name=True)
        if not text.strip():
            raise InvalidInput("reply", N_("This rule has no canned reply."))
        order_service.record(session, order, "reply", actor=actor.name, via=actor.via, at=now or utcnow(),
                             detail={"tag": tag_id, "rule": tag.rule_code, "text": text, "sent_by_sms": False})
        audit.append(session, actor, "triage_reply", order_ref=order.ref,
                     detail={"tag": tag_id, "rule": tag.rule_code, "sent_by_sms": False})
    return text
