"""Display names and sentences for triage codes and tag details, translated where shown."""

from __future__ import annotations

import json
from datetime import datetime

from core import i18n
from core.i18n import N_, gettext
from core.labels import CARRIER, label_filter
from core.money import format_money

TRIAGE_TAG = {
    "address_risk": N_("Address risk"),
    "stock_gap": N_("Stock gap"),
    "payment_anomaly": N_("Payment anomaly"),
    "logistics_anomaly": N_("Logistics anomaly"),
    "compliance": N_("Compliance"),
}

TRIAGE_QUEUE = {
    "customer_service": N_("Customer service"),
    "warehouse": N_("Warehouse"),
    "finance": N_("Finance"),
    "compliance": N_("Compliance"),
}

TRIAGE_RULE = {
    "address_phone_not_mobile": N_("Phone is not a mobile number"),
    "address_proxy_words": N_("Pick-up point or locker address"),
    "address_no_district": N_("Address without a district"),
    "address_po_box": N_("PO box with a carrier that refuses them"),
    "stock_short": N_("Stock below the ordered quantity"),
    "stock_low_selling_fast": N_("Low stock while selling fast"),
    "payment_amount_mismatch": N_("Paid amount differs from the total"),
    "payment_callback_missing": N_("Payment callback missing"),
    "payment_refunded": N_("Paid, then refunded"),
    "logistics_no_pickup": N_("Shipped but not picked up"),
    "logistics_stalled": N_("No carrier update in transit"),
    "logistics_delivered_not_received": N_("Delivered, but the customer says not received"),
    "logistics_returned": N_("Parcel returned"),
    "compliance_customs_missing": N_("Cross-border without customs data"),
}

PARAM_LABEL = {
    "sla_hours": N_("SLA: hours to resolve"),
    "hours": N_("Hours without a carrier event"),
    "after_minutes": N_("Minutes without a payment callback"),
    "tolerance_minor": N_("Tolerated difference (in fen)"),
    "low_stock_below": N_("Low stock: fewer than (units available)"),
    "fast_units_24h": N_("Selling fast: more than (units ordered in 24 h)"),
    "words": N_("Words to look for in the street (one per line)"),
    "provinces": N_("Cross-border provinces (one per line)"),
    "sub_statuses": N_("Carrier sub-statuses (one per line)"),
    "carriers": N_("Carriers that refuse PO boxes (codes, one per line)"),
    "domestic_country_codes": N_("Domestic phone country codes (one per line)"),
    "reply": N_("Canned reply to the customer"),
}

SUB_STATUS = {
    "returning": N_("on its way back to the sender"),
    "returned_signed": N_("returned and signed for by the sender"),
}

REASON = {
    "phone_not_mobile": N_("The recipient's phone is not a mobile number, so the courier cannot text it."),
    "proxy_word": N_("The street names a pick-up point or locker (“%(word)s”)."),
    "no_district": N_("The address has no district."),
    "po_box_carrier_unknown": N_("PO box address (“%(word)s”): ship with a carrier that delivers to PO boxes."),
    "po_box_carrier": N_("PO box address (“%(word)s”), but %(carrier)s does not deliver to PO boxes."),
    "stock_short": N_("Not enough stock: %(items)s."),
    "stock_low_fast": N_("Low stock while selling fast: %(items)s."),
    "amount_mismatch": N_("Paid %(paid)s, but the order totals %(total)s."),
    "callback_missing": N_("Marked paid, but no payment callback after %(minutes)s minutes."),
    "refunded": N_("Paid (%(paid)s), then refunded."),
    "no_pickup": N_("Handed to %(carrier)s %(hours)s h ago (%(tracking_no)s), no carrier scan since."),
    "stalled": N_("No carrier update for %(hours)s h (%(carrier)s %(tracking_no)s)."),
    "delivered_not_received": N_("Delivered according to the carrier, but the customer says it did not arrive."),
    "returned": N_("The parcel is %(sub_status)s (%(carrier)s %(tracking_no)s)."),
    "customs_missing_province": N_("Ships to %(value)s (cross-border) without a customs declaration."),
    "customs_missing_phone": N_("Recipient's phone is %(value)s (cross-border) without a customs declaration."),
    "demo_history": N_("Demo data: an exception from an earlier week, already resolved."),
}


def _money(minor: int | None, currency: str) -> str:
    return "" if minor is None else format_money(minor, currency, locale=i18n.current_locale.get())


def describe(detail_json: str | dict) -> str:
    """A tag's reason as a sentence in the viewer's language."""
    detail = json.loads(detail_json) if isinstance(detail_json, str) else dict(detail_json)
    reason = detail.get("reason", "")
    currency = detail.get("currency", "CNY")
    values = dict(detail)
    if reason in ("stock_short", "stock_low_fast"):
        item = (N_("%(sku)s: %(available)s available, %(quantity)s ordered") if reason == "stock_short"
                else N_("%(sku)s: %(available)s available, %(sold_24h)s ordered in 24 h"))
        values["items"] = "; ".join(gettext(item) % s for s in detail.get("skus", []))
    if reason in ("amount_mismatch", "refunded"):
        values["paid"] = _money(detail.get("paid_minor"), currency)
        values["total"] = _money(detail.get("total_minor"), currency)
    if "carrier" in values:
        values["carrier"] = label_filter(CARRIER)(values["carrier"])
    if reason == "returned":
        values["sub_status"] = label_filter(SUB_STATUS)(detail.get("sub_status"))
    if reason == "customs_missing":
        reason = f"customs_missing_{detail.get('by', 'province')}"
    if reason not in REASON:
        return reason
    try:
        return gettext(REASON[reason]) % values
    except (KeyError, TypeError):
        return gettext(REASON[reason])


def sla_text(due: datetime, now: datetime) -> str:
    """"Overdue by 3 h 20 min" or "Due in 45 min": what the SLA timer shows."""
    seconds = int((due - now).total_seconds())
    minutes = abs(seconds) // 60
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        span = gettext(N_("%(d)s d %(h)s h")) % {"d": days, "h": hours}
    elif hours:
        span = gettext(N_("%(h)s h %(m)s min")) % {"h": hours, "m": minutes}
    else:
        span = gettext(N_("%(m)s min")) % {"m": minutes}
    if seconds < 0:
        return gettext(N_("Overdue by %(span)s")) % {"span": span}
    return gettext(N_("Due in %(span)s")) % {"span": span}


FILTERS = {
    "triage_tag": label_filter(TRIAGE_TAG),
    "triage_queue": label_filter(TRIAGE_QUEUE),
    "triage_rule": label_filter(TRIAGE_RULE),
    "triage_param": label_filter(PARAM_LABEL),
    "triage_reason": describe,
}
GLOBALS = {"sla_text": sla_text}
