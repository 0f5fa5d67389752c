"""The triage checks: pure functions from an order's facts and a rule's params to a finding.

Nothing here touches the database. A rule row (core.models.TriageRule) names its check by
code and carries the thresholds and word lists; the scan loads the facts and stores the hits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from core.models import OrderStatus, TrackingTag
from core.phones import country_code, is_mobile

UNSHIPPED = frozenset({OrderStatus.PAID, OrderStatus.PICKING})
PAID_STATES = frozenset({OrderStatus.PAID, OrderStatus.PICKING, OrderStatus.SHIPPED, OrderStatus.DELIVERED})
# Carrier tags of a parcel that should keep producing events.
MOVING = frozenset({TrackingTag.INFO_RECEIVED, TrackingTag.IN_TRANSIT, TrackingTag.OUT_FOR_DELIVERY})
# Disputes still being worked (core.services.disputes.cases.OPEN_STATES, without importing the service).
OPEN_DISPUTE_STATES = frozenset({"open", "evidence_ready", "submitted"})


@dataclass(frozen=True)
class LineFacts:
    sku: str
    # Units still to be reserved for this line (ordered minus already held).
    quantity: int
    # on_hand - reserved at the order's warehouse; None when the warehouse keeps no stock row.
    available: int | None = None
    # Units of this SKU ordered at the same warehouse in the 24 h before the scan.
    sold_24h: int = 0


@dataclass(frozen=True)
class ShipmentFacts:
    carrier: str
    tracking_no: str
    shipped_at: datetime
    tag: str
    last_event_at: datetime | None = None
    last_sub_status: str | None = None


@dataclass(frozen=True)
class OrderFacts:
    """What the checks may look at, loaded in bulk by the scan (or built by hand in tests)."""

    order_id: int
    ref: str
    status: str
    created_at: datetime
    total_minor: int = 0
    paid_minor: int | None = None
    paid_at: datetime | None = None
    currency: str = "CNY"
    phone: str = ""
    province: str = ""
    district: str = ""
    street: str = ""
    warehouse_id: int | None = None
    presale_ships_on: date | None = None
    customs_declaration_no: str = ""
    lines: tuple[LineFacts, ...] = ()
    shipments: tuple[ShipmentFacts, ...] = ()
    open_dispute_kinds: frozenset[str] = field(default_factory=frozenset)

    @property
    def shipment(self) -> ShipmentFacts | None:
        """The latest parcel: the one the customer is waiting for."""
        return self.shipments[-1] if self.shipments else None


@dataclass(frozen=True)
class Finding:
    detail: dict
    fingerprint: str = ""


Check = Callable[[OrderFacts, dict, datetime], Finding | None]


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _compact(text: str) -> str:
    """Case, spaces and dots do not matter when matching words: "P.O. Box" = "pobox"."""
    return "".join(ch for ch in text.casefold() if not ch.isspace() and ch != ".")


def first_word_in(text: str, words: list[str]) -> str | None:
    haystack = _compact(text)
    for word in words:
        if word and _compact(word) and _compact(word) in haystack:
            return word
    return None


# --- address_risk ----------------------------------------------------------------------------


def phone_not_mobile(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if facts.status not in UNSHIPPED or is_mobile(facts.phone):
        return None
    return Finding({"reason": "phone_not_mobile"}, _fingerprint(facts.phone))


def proxy_words(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if facts.status not in UNSHIPPED:
        return None
    word = first_word_in(facts.street, params.get("words", []))
    if word is None:
        return None
    return Finding({"reason": "proxy_word", "word": word}, _fingerprint(facts.street))


def no_district(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if facts.status not in UNSHIPPED or facts.district.strip():
        return None
    return Finding({"reason": "no_district"}, _fingerprint(facts.province, facts.street))


def po_box(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if facts.status not in UNSHIPPED | {OrderStatus.SHIPPED}:
        return None
    word = first_word_in(facts.street, params.get("words", []))
    if word is None:
        return None
    shipment = facts.shipment
    if shipment is None:
        # Not handed over yet: the warehouse must pick a carrier that delivers to PO boxes.
        return Finding({"reason": "po_box_carrier_unknown", "word": word}, _fingerprint(facts.street))
    refusing = {c.upper() for c in params.get("carriers", [])}
    if shipment.carrier.upper() not in refusing:
        return None
    return Finding({"reason": "po_box_carrier", "word": word, "carrier": shipment.carrier},
                   _fingerprint(facts.street, shipment.carrier))


# --- stock_gap -------------------------------------------------------------------------------


def _stock_applies(facts: OrderFacts, now: datetime) -> bool:
    presale_later = facts.presale_ships_on is not None and facts.presale_ships_on > now.date()
    return facts.status in UNSHIPPED and facts.warehouse_id is not None and not presale_later


def stock_short(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if not _stock_applies(facts, now):
        return None
    short = [{"sku": line.sku, "available": line.available, "quantity": line.quantity}
             for line in facts.lines if line.available is not None and line.available < line.quantity]
    if not short:
        return None
    return Finding({"reason": "stock_short", "skus": short}, _fingerprint(*sorted(s["sku"] for s in short)))


def stock_low_selling_fast(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if not _stock_applies(facts, now):
        return None
    below, fast = int(params.get("low_stock_below", 0)), int(params.get("fast_units_24h", 0))
    # A line that cannot be filled at all is stock_short's case; one tag per situation.
    low = [{"sku": line.sku, "available": line.available, "sold_24h": line.sold_24h}
           for line in facts.lines
           if line.available is not None and line.quantity <= line.available < below and line.sold_24h > fast]
    if not low:
        return None
    return Finding({"reason": "stock_low_fast", "skus": low}, _fingerprint(*sorted(s["sku"] for s in low)))


# --- payment_anomaly -------------------------------------------------------------------------


def amount_mismatch(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if facts.status not in PAID_STATES or facts.paid_minor is None:
        return None
    if abs(facts.paid_minor - facts.total_minor) <= int(params.get("tolerance_minor", 0)):
        return None
    return Finding({"reason": "amount_mismatch", "paid_minor": facts.paid_minor, "total_minor": facts.total_minor,
                    "currency": facts.currency}, _fingerprint(facts.paid_minor, facts.total_minor))


def callback_missing(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if facts.status not in PAID_STATES or facts.paid_at is not None:
        return None
    age = now - facts.created_at
    if age <= timedelta(minutes=int(params.get("after_minutes", 0))):
        return None
    return Finding({"reason": "callback_missing", "minutes": int(age.total_seconds() // 60)})


def refunded_after_payment(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if facts.status != OrderStatus.REFUNDED or (facts.paid_at is None and facts.paid_minor is None):
        return None
    return Finding({"reason": "refunded", "paid_minor": facts.paid_minor, "currency": facts.currency})


# --- logistics_anomaly -----------------------------------------------------------------------


def no_pickup(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    shipment = facts.shipment
    if facts.status != OrderStatus.SHIPPED or shipment is None or shipment.last_event_at is not None:
        return None
    if now - shipment.shipped_at <= timedelta(hours=int(params.get("hours", 24))):
        return None
    return Finding({"reason": "no_pickup", "carrier": shipment.carrier, "tracking_no": shipment.tracking_no,
                    "hours": int((now - shipment.shipped_at).total_seconds() // 3600)},
                   _fingerprint(shipment.carrier, shipment.tracking_no))


def stalled(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    shipment = facts.shipment
    if facts.status != OrderStatus.SHIPPED or shipment is None or shipment.last_event_at is None:
        return None
    if shipment.tag not in MOVING or now - shipment.last_event_at <= timedelta(hours=int(params.get("hours", 48))):
        return None
    # Keyed by the last event: a parcel that moves and then stalls again is a new case.
    return Finding({"reason": "stalled", "carrier": shipment.carrier, "tracking_no": shipment.tracking_no,
                    "hours": int((now - shipment.last_event_at).total_seconds() // 3600)},
                   _fingerprint(shipment.tracking_no, shipment.last_event_at.isoformat()))


def delivered_not_received(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if facts.status != OrderStatus.DELIVERED or "not_received" not in facts.open_dispute_kinds:
        return None
    shipment = facts.shipment
    return Finding({"reason": "delivered_not_received",
                    "tracking_no": shipment.tracking_no if shipment else ""})


def returned(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    shipment = facts.shipment
    if facts.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED) or shipment is None:
        return None
    if shipment.tag != TrackingTag.EXCEPTION or shipment.last_sub_status not in params.get("sub_statuses", []):
        return None
    return Finding({"reason": "returned", "sub_status": shipment.last_sub_status, "carrier": shipment.carrier,
                    "tracking_no": shipment.tracking_no},
                   _fingerprint(shipment.tracking_no, shipment.last_sub_status))


# --- compliance ------------------------------------------------------------------------------


def cross_border_reason(facts: OrderFacts, params: dict) -> dict | None:
    if facts.province in params.get("provinces", []):
        return {"by": "province", "value": facts.province}
    code = country_code(facts.phone)
    if code is not None and str(code) not in params.get("domestic_country_codes", ["86"]):
        return {"by": "phone", "value": f"+{code}"}
    return None


def customs_missing(facts: OrderFacts, params: dict, now: datetime) -> Finding | None:
    if facts.status not in UNSHIPPED | {OrderStatus.SHIPPED} or facts.customs_declaration_no.strip():
        return None
    why = cross_border_reason(facts, params)
    if why is None:
        return None
    return Finding({"reason": "customs_missing", **why})


CHECKS: dict[str, Check] = {
    "address_phone_not_mobile": phone_not_mobile,
    "address_proxy_words": proxy_words,
    "address_no_district": no_district,
    "address_po_box": po_box,
    "stock_short": stock_short,
    "stock_low_selling_fast": stock_low_selling_fast,
    "payment_amount_mismatch": amount_mismatch,
    "payment_callback_missing": callback_missing,
    "payment_refunded": refunded_after_payment,
    "logistics_no_pickup": no_pickup,
    "logistics_stalled": stalled,
    "logistics_delivered_not_received": delivered_not_received,
    "logistics_returned": returned,
    "compliance_customs_missing": customs_missing,
}
