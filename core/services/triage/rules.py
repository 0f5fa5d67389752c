"""Triage rules as data: the defaults, checking edited params, reading rules, and the audited save."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.db import Database
from core.errors import DomainError, NotFound
from core.i18n import N_
from core.models import Carrier, TriageQueue, TriageRule, TriageTag, utcnow
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.identity.permissions import Permission
from core.services.orders.addresses import PROXY_WORDS
from core.services.triage.checks import CHECKS

T, Q = TriageTag, TriageQueue

# (code, tag, queue, params). The first migration of the triage tables inserts a frozen copy
# of these; the demo seed and the tests install them into an empty table.
DEFAULT_RULES: list[tuple[str, str, str, dict]] = [
    ("address_phone_not_mobile", T.ADDRESS_RISK, Q.CUSTOMER_SERVICE, {
        "sla_hours": 8,
        "reply": "您好：您的订单 {ref} 留的收件电话无法接收短信，快递员可能联系不上您。"
                 "请回复一个可用的手机号码，我们会在发货前更新。"}),
    ("address_proxy_words", T.ADDRESS_RISK, Q.CUSTOMER_SERVICE, {
        "words": list(PROXY_WORDS), "sla_hours": 8,
        "reply": "您好：您的订单 {ref} 的收货地址是代收点（驿站、快递柜等）。如需送货上门，"
                 "请在发货前回复新的地址；如确认由代收点代收，请回复“确认”。"}),
    ("address_no_district", T.ADDRESS_RISK, Q.CUSTOMER_SERVICE, {
        "sla_hours": 8,
        "reply": "您好：您的订单 {ref} 的收货地址缺少区/县，可能影响派送。请在订单页补充完整地址，"
                 "或直接回复我们。"}),
    ("address_po_box", T.ADDRESS_RISK, Q.CUSTOMER_SERVICE, {
        "words": ["邮政信箱", "信箱", "PO Box"], "carriers": ["SF", "ZTO", "YTO", "JD"], "sla_hours": 8,
        "reply": "您好：您的订单 {ref} 的收货地址是邮政信箱，多数快递无法投递。我们将改用中国邮政 EMS "
                 "发货；如需改为其他地址，请回复。"}),
    ("stock_short", T.STOCK_GAP, Q.WAREHOUSE, {
        "sla_hours": 12,
        "reply": "您好：非常抱歉，您的订单 {ref} 中有商品暂时缺货，我们正在补货，到货后第一时间发出。"
                 "如不想等待，可申请退款。"}),
    ("stock_low_selling_fast", T.STOCK_GAP, Q.WAREHOUSE, {
        "low_stock_below": 10, "fast_units_24h": 20, "sla_hours": 24,
        "reply": "您好：您的订单 {ref} 中的商品近期热销，发货可能稍有延迟，我们会尽快安排。"}),
    ("payment_amount_mismatch", T.PAYMENT_ANOMALY, Q.FINANCE, {
        "tolerance_minor": 0, "sla_hours": 24,
        "reply": "您好：我们核对订单 {ref} 时发现实付金额 {paid} 与订单金额 {total} 不一致，"
                 "财务同事正在核实，核实后会联系您，请勿重复付款。"}),
    ("payment_callback_missing", T.PAYMENT_ANOMALY, Q.FINANCE, {
        "after_minutes": 30, "sla_hours": 4,
        "reply": "您好：您的订单 {ref} 的付款结果还在确认中，确认后立即安排发货，请勿重复付款。"}),
    ("payment_refunded", T.PAYMENT_ANOMALY, Q.FINANCE, {
        "sla_hours": 48,
        "reply": "您好：您的订单 {ref} 已退款 {paid}，将原路退回，一般 1–3 个工作日到账。"}),
    ("logistics_no_pickup", T.LOGISTICS_ANOMALY, Q.CUSTOMER_SERVICE, {
        "hours": 24, "sla_hours": 8,
        "reply": "您好：您的订单 {ref} 已交给{carrier}（运单号 {tracking_no}），快递尚未揽收，"
                 "我们已催促尽快揽收。"}),
    ("logistics_stalled", T.LOGISTICS_ANOMALY, Q.CUSTOMER_SERVICE, {
        "hours": 48, "sla_hours": 8,
        "reply": "您好：您的包裹（{carrier} {tracking_no}）物流信息暂时没有更新，我们已联系快递核查，"
                 "有进展会第一时间告诉您。承诺送达时间：{promised_delivery_by}。"}),
    ("logistics_delivered_not_received", T.LOGISTICS_ANOMALY, Q.CUSTOMER_SERVICE, {
        "sla_hours": 24,
        "reply": "您好：订单 {ref}（{carrier} {tracking_no}）显示已签收，您反映未收到，"
                 "我们已向快递发起核查，48 小时内给您答复。"}),
    ("logistics_returned", T.LOGISTICS_ANOMALY, Q.CUSTOMER_SERVICE, {
        "sub_statuses": ["returning", "returned_signed"], "sla_hours": 24,
        "reply": "您好：您的包裹（{carrier} {tracking_no}）正在退回，我们收到退件后会联系您重新发货或退款。"}),
    ("compliance_customs_missing", T.COMPLIANCE, Q.COMPLIANCE, {
        "provinces": ["香港特别行政区", "澳门特别行政区", "台湾省"], "domestic_country_codes": ["86"],
        "sla_hours": 24,
        "reply": "您好：您的订单 {ref} 寄往境外或港澳台地区，需要办理清关申报。"
                 "请回复收件人的证件信息，我们收到后尽快发货。"}),
]

# Placeholders a canned reply may use; core.services.triage.queue fills them in.
PLACEHOLDERS = ("ref", "recipient", "tracking_no", "carrier", "promised_delivery_by", "total", "paid",
                "channel_order_no")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# How each param is edited and checked: (kind, minimum, maximum).
PARAM_KINDS: dict[str, tuple[str, int, int]] = {
    "sla_hours": ("int", 1, 24 * 30),
    "hours": ("int", 1, 24 * 30),
    "after_minutes": ("int", 1, 60 * 24 * 7),
    "tolerance_minor": ("int", 0, 10_000_00),
    "low_stock_below": ("int", 0, 1_000_000),
    "fast_units_24h": ("int", 0, 1_000_000),
    "words": ("words", 1, 50),
    "provinces": ("words", 1, 50),
    "sub_statuses": ("words", 1, 20),
    "carriers": ("carriers", 0, 20),
    "domestic_country_codes": ("codes", 1, 20),
    "reply": ("text", 1, 1000),
}
# The order the form shows them in.
PARAM_ORDER = list(PARAM_KINDS)


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the pure engine sees it."""

    code: str
    tag: str
    queue: str
    enabled: bool
    params: dict


def spec_of(rule: TriageRule) -> RuleSpec:
    return RuleSpec(code=rule.code, tag=rule.tag, queue=rule.queue, enabled=rule.enabled,
                    params=json.loads(rule.params or "{}"))


def install_default_rules(session: Session, actor: Actor | None = None) -> int:
    """Add the default rules that are missing (by code); existing rules are left as edited."""
    updated_by = (actor or Actor.system()).name
    present = set(session.exec(select(TriageRule.code)).all())
    added = 0
    for code, tag, queue, params in DEFAULT_RULES:
        if code not in present:
            session.add(TriageRule(code=code, tag=tag, queue=queue, enabled=True, updated_by=updated_by,
                                   params=json.dumps(params, ensure_ascii=False, sort_keys=True)))
            added += 1
    return added


def list_rules(db: Database) -> list[TriageRule]:
    with db.read() as session:
        return list(session.exec(select(TriageRule).order_by(TriageRule.tag, TriageRule.code)).all())


def get_rule(db: Database, code: str) -> TriageRule:
    with db.read() as session:
        rule = session.exec(select(TriageRule).where(TriageRule.code == code)).first()
    if rule is None or rule.code not in CHECKS:
        raise NotFound(N_("No such rule."))
    return rule


class RuleErrors(DomainError):
    """Edited params with mistakes; `errors` maps each field to its message (a msgid) and params."""

    def __init__(self, errors: dict[str, tuple[str, dict]]) -> None:
        field, (message, params) = next(iter(errors.items()))
        super().__init__(message, **params)
        self.errors = errors


class RuleChanged(DomainError):
    """Someone saved the rule after this form was loaded."""


def _words(raw: str) -> list[str]:
    seen: list[str] = []
    for word in re.split(r"[\n,，、;；]+", raw or ""):
        word = word.strip()
        if word and word not in seen:
            seen.append(word)
    return seen


def parse_params(current: dict, form: dict[str, str]) -> dict:
    """The rule's params as edited in the form; only keys the rule already has are read."""
    errors: dict[str, tuple[str, dict]] = {}
    params: dict = {}
    for key, value in current.items():
        kind, low, high = PARAM_KINDS.get(key, ("keep", 0, 0))
        raw = form.get(key, "")
        if kind == "keep":
            params[key] = value
        elif kind == "int":
            text = raw.strip()
            if not text.lstrip("-").isdigit():
                errors[key] = (N_("Enter a whole number."), {})
            elif not low <= int(text) <= high:
                errors[key] = (N_("Enter a number from %(low)s to %(high)s."), {"low": low, "high": high})
            else:
                params[key] = int(text)
        elif kind in ("words", "carriers", "codes"):
            words = _words(raw)
            if kind == "carriers":
                words = [w.upper() for w in words]
            unknown = [w for w in words if (kind == "carriers" and w not in set(Carrier))
                       or (kind == "codes" and not (w.isdigit() and len(w) <= 3))]
            if len(words) < low:
                errors[key] = (N_("List at least one entry, or turn the rule off."), {})
            elif len(words) > high:
                errors[key] = (N_("At most %(high)s entries."), {"high": high})
            elif any(len(w) > 20 for w in words):
                errors[key] = (N_("An entry may have at most 20 characters."), {})
            elif unknown:
                errors[key] = (N_("Not recognised: %(entries)s"), {"entries": "、".join(unknown)})
            else:
                params[key] = words
        elif kind == "text":
            text = raw.strip()
            names = _PLACEHOLDER.findall(text)
            unknown = [n for n in names if n not in PLACEHOLDERS]
            if not text:
                errors[key] = (N_("This field is required."), {})
            elif len(text) > high:
                errors[key] = (N_("This is too long."), {})
            elif unknown:
                errors[key] = (N_("Unknown placeholder: %(names)s"),
                               {"names": "、".join("{" + n + "}" for n in unknown)})
            else:
                params[key] = text
    if errors:
        raise RuleErrors(errors)
    return params


def parse_queue(raw: str, current: str) -> str:
    return raw if raw in set(TriageQueue) else current


def parse_form(rule: TriageRule, form: dict[str, str]) -> RuleSpec:
    """The rule as edited in the admin's form (for a preview or a save); RuleErrors when it has mistakes."""
    params = parse_params(json.loads(rule.params), form)
    return RuleSpec(code=rule.code, tag=rule.tag, queue=parse_queue(form.get("queue", ""), rule.queue),
                    enabled=form.get("enabled") == "1", params=params)


def save_rule(db: Database, actor: Actor, code: str, form: dict[str, str], *,
              now: datetime | None = None) -> tuple[dict, dict]:
    """Store the rule as edited in the form, with its audit entry; returns (before, after).
    The form's `loaded_at` is the rule's updated_at when the form was shown: a save over someone
    else's change is refused."""
    actor.require(Permission.MANAGE_RULES)
    now = now or utcnow()
    loaded_at = form.get("loaded_at", "")
    with db.write() as session:
        rule = session.exec(select(TriageRule).where(TriageRule.code == code).with_for_update()).first()
        if rule is None or rule.code not in CHECKS:
            raise NotFound(N_("No such rule."))
        edited = parse_form(rule, form)
        if loaded_at and loaded_at != rule.updated_at.isoformat():
            raise RuleChanged(N_("%(who)s changed this rule while you were editing it. Review their change and "
                                 "save again."), who=rule.updated_by)
        before = {"enabled": rule.enabled, "queue": rule.queue, "params": json.loads(rule.params)}
        after = {"enabled": edited.enabled, "queue": edited.queue, "params": edited.params}
        rule.params = json.dumps(edited.params, ensure_ascii=False, sort_keys=True)
        rule.enabled = edited.enabled
        rule.queue = edited.queue
        rule.updated_at = now
        rule.updated_by = actor.name
        session.add(rule)
        audit.append(session, actor, "triage_rule_update", detail={"rule": code, "before": before, "after": after})
    return before, after
