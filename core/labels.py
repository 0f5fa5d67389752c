"""Display names for codes stored in the database, translated where shown."""

from __future__ import annotations

from core.i18n import N_, gettext
from core.services.identity.permissions import ROLE_LABELS

ORDER_STATUS = {
    "pending_payment": N_("Awaiting payment"),
    "paid": N_("Paid, to ship"),
    "picking": N_("Being packed"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "cancelled": N_("Cancelled"),
    "refunded": N_("Refunded"),
}

TRACKING_TAG = {
    "pending": N_("Waiting for carrier"),
    "info_received": N_("Label created"),
    "in_transit": N_("In transit"),
    "out_for_delivery": N_("Out for delivery"),
    "attempt_fail": N_("Delivery attempt failed"),
    "available_for_pickup": N_("Ready for pickup"),
    "delivered": N_("Delivered"),
    "exception": N_("Problem with the parcel"),
    "expired": N_("Tracking stopped"),
}

CARRIER = {
    "SF": N_("SF Express"),
    "ZTO": N_("ZTO Express"),
    "YTO": N_("YTO Express"),
    "JD": N_("JD Logistics"),
    "EMS": N_("China Post EMS"),
}

CHANNEL = {
    "taobao": N_("Taobao / Tmall"),
    "jd": N_("JD.com"),
    "pinduoduo": N_("Pinduoduo"),
    "douyin": N_("Douyin shop"),
    "shopify": N_("Shopify"),
    "own_shop": N_("Our shop"),
}


DISPUTE_KIND = {
    "not_received": N_("Not received"),
    "damaged": N_("Damaged"),
    "late": N_("Late"),
    "wrong_item": N_("Wrong item"),
    "other": N_("Other"),
}

DISPUTE_STATUS = {
    "open": N_("Open"),
    "evidence_ready": N_("Evidence ready"),
    "submitted": N_("Submitted"),
    "won": N_("Won"),
    "lost": N_("Lost"),
    "withdrawn": N_("Withdrawn"),
}

DISPUTE_ACTION = {
    "opened": N_("Dispute opened"),
    "status": N_("Status changed"),
    "evidence": N_("Evidence pack attached"),
    "note": N_("Note added"),
    "customer_report": N_("Customer added to the report"),
    "reply": N_("Replied to the customer"),
}

# What a shopper reads about their case: the internal steps in words that mean something to them.
CASE_STATUS = {
    "open": N_("Received, we are looking into it"),
    "evidence_ready": N_("Received, we are looking into it"),
    "submitted": N_("Claim filed with the carrier or platform"),
    "won": N_("Resolved"),
    "lost": N_("Closed"),
    "withdrawn": N_("Closed"),
}

PROBLEM_TITLE = {
    "not_received": N_("Not received"),
    "damaged": N_("Arrived damaged"),
    "wrong_item": N_("Wrong item"),
    "late": N_("Late delivery"),
    "other": N_("Other"),
}

PROBLEM_HINT = {
    "not_received": N_("The carrier says it was delivered, or the promised time has passed, but you have no parcel."),
    "damaged": N_("The parcel or the item arrived broken. Add photos."),
    "wrong_item": N_("You received something other than what you ordered."),
    "late": N_("The parcel came, or is still coming, after the promised time."),
}

LATE_SIDE = {
    "merchant": N_("Late on the merchant's side (before hand-off)"),
    "carrier": N_("Late on the carrier's side (after hand-off)"),
    "both": N_("Late on both sides"),
}

HISTORY = {
    "created": N_("Order received"),
    "status": N_("Status changed"),
    "address_changed": N_("Delivery address changed"),
    "hurry": N_("Asked to hurry"),
    "note": N_("Note added"),
    "dispute_opened": N_("Dispute opened"),
    "cancel_reason": N_("Cancellation reason recorded"),
    "reply": N_("Customer service reply recorded"),
    "problem_reported": N_("Problem reported"),
}


MESSAGE_EVENT = {
    "order_confirmed": N_("Order confirmed"),
    "shipped": N_("Shipped"),
    "address_changed": N_("Address changed"),
    "delayed": N_("Delayed past the promise"),
    "out_for_delivery": N_("Out for delivery"),
    "delivered": N_("Delivered"),
    "dispute_update": N_("Case updated"),
}

LANGUAGE = {"zh_CN": N_("Chinese"), "en": N_("English")}

MESSAGE_CHANNEL = {"sms": N_("SMS"), "wechat": N_("WeChat"), "email": N_("Email")}

MESSAGE_STATUS = {
    "pending": N_("Waiting to be sent"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "dead": N_("Failed for good"),
}


def label_filter(table: dict[str, str]):  # noqa: ANN201 (a template filter)
    """A template filter showing a stored code by its translated display name (the code itself if unknown)."""
    def label(code: str | None) -> str:
        if code is None:
            return ""
        return gettext(table[code]) if code in table else code

    return label


def describe_history(entry) -> str:  # noqa: ANN001
    """One line a shopper or agent can read: what happened, in their language."""
    import json

    detail = json.loads(entry.detail or "{}")
    if entry.kind == "status" and "to" in detail:
        return gettext(N_("Status: %(old)s → %(new)s")) % {
            "old": label_filter(ORDER_STATUS)(detail.get("from")), "new": label_filter(ORDER_STATUS)(detail["to"])}
    if entry.kind == "address_changed" and "new" in detail:
        new = detail["new"]
        return gettext(N_("Delivery address changed to %(place)s")) % {
            "place": f"{new.get('province', '')}{new.get('city', '')}{new.get('district', '')}"}
    return label_filter(HISTORY)(entry.kind)


FILTERS = {
    "history_text": describe_history,
    "status_label": label_filter(ORDER_STATUS),
    "tag_label": label_filter(TRACKING_TAG),
    "carrier_name": label_filter(CARRIER),
    "channel_name": label_filter(CHANNEL),
    "history_label": label_filter(HISTORY),
    "dispute_kind": label_filter(DISPUTE_KIND),
    "dispute_status": label_filter(DISPUTE_STATUS),
    "dispute_action": label_filter(DISPUTE_ACTION),
    "case_status": label_filter(CASE_STATUS),
    "problem_title": label_filter(PROBLEM_TITLE),
    "problem_hint": label_filter(PROBLEM_HINT),
    "late_side": label_filter(LATE_SIDE),
    "message_event": label_filter(MESSAGE_EVENT),
    "language_name": label_filter(LANGUAGE),
    "message_channel": label_filter(MESSAGE_CHANNEL),
    "message_status": label_filter(MESSAGE_STATUS),
    "role_label": label_filter({r.value: label for r, label in ROLE_LABELS.items()}),
    "t": gettext,
}
