"""Kuaidi100 (快递100): the subscription push format and the real-time query API.

Push: POST form fields `param` (JSON) and `sign` = uppercase hex MD5 of
param + salt. `param.lastResult` carries `com`, `nu`, `state` and `data`, the
full trace newest first; each entry has `time`/`ftime` (local time,
Asia/Shanghai), `context`, and with resultv2 `areaName`, `status` (the state's
name) and `statusCode`. The receiver answers within 20 s (api/carriers.py: the
answer is HTTP, this module only reads the push).

Query: POST /poll/query.do with `customer`, `param` and
`sign` = uppercase MD5 of param + key + customer; the answer has the same
`data` list (or {"result": false, "returnCode": ..., "message": ...}).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from core.carriers.base import CarrierUnavailable, NormalizedEvent, TrackingSnapshot

logger = logging.getLogger("orderdesk.carriers.kuaidi100")

CARRIER_TIMEZONE = ZoneInfo("Asia/Shanghai")

# Our carrier codes <-> Kuaidi100 company codes.
COMPANY_CODES = {"SF": "shunfeng", "ZTO": "zhongtong", "YTO": "yuantong", "JD": "jd", "EMS": "ems"}
CARRIER_BY_COMPANY = {v: k for k, v in COMPANY_CODES.items()}

# State names (resultv2=1) back to the main numeric codes.
STATE_BY_NAME = {
    "在途": "0", "揽收": "1", "疑难": "2", "签收": "3", "退签": "4", "派件": "5", "退回": "6", "转投": "7",
    "清关": "8", "拒签": "14",
}

# Numeric state (main and extended codes) -> (tag, sub-status).
STATE_MAP: dict[str, tuple[str, str | None]] = {
    "0": ("in_transit", None),
    "1001": ("in_transit", "arrived_destination_city"),
    "1002": ("in_transit", "trunk_line"),
    "1003": ("in_transit", "forwarded"),
    "1": ("info_received", "picked_up"),
    "101": ("info_received", "order_placed"),
    "102": ("pending", "awaiting_pickup"),
    "103": ("info_received", "picked_up"),
    "5": ("out_for_delivery", None),
    "501": ("available_for_pickup", "locker_or_station"),
    "3": ("delivered", "signed"),
    "301": ("delivered", "signed_by_recipient"),
    "302": ("delivered", "signed_after_exception"),
    "303": ("delivered", "signed_by_proxy"),
    "304": ("delivered", "locker_or_station"),
    "2": ("exception", None),
    "201": ("exception", "not_signed_in_time"),
    "202": ("exception", "no_update_in_time"),
    "203": ("exception", "refused"),
    "204": ("attempt_fail", "delivery_exception"),
    "205": ("available_for_pickup", "locker_overdue"),
    "206": ("attempt_fail", "recipient_unreachable"),
    "207": ("exception", "out_of_service_area"),
    "208": ("exception", "held"),
    "209": ("exception", "damaged"),
    "210": ("exception", "cancelled"),
    "4": ("exception", "returned_signed"),
    "401": ("exception", "cancelled"),
    "14": ("exception", "refused"),
    "6": ("exception", "returning"),
    "7": ("in_transit", "transferred"),
    "8": ("in_transit", "customs"),
    "10": ("in_transit", "customs_pending"),
    "11": ("in_transit", "customs_in_progress"),
    "12": ("in_transit", "customs_cleared"),
    "13": ("exception", "customs_exception"),
}


class PushRejected(Exception):
    """The push cannot be read; the message says why."""


class UnknownCompany(PushRejected):
    """The push is about a carrier company we do not work with."""


def push_sign(param: str, salt: str) -> str:
    return hashlib.md5((param + salt).encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def verify_push_sign(param: str, sign: str, salt: str) -> bool:
    return hmac.compare_digest(push_sign(param, salt), (sign or "").strip().upper())


def query_sign(param: str, key: str, customer: str) -> str:
    return hashlib.md5((param + key + customer).encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def normalize_state(code: str | None, name: str | None = None) -> tuple[str, str, str | None]:
    """(raw code, tag, sub-status) for an entry's statusCode or state name."""
    raw = (code or "").strip() or STATE_BY_NAME.get((name or "").strip(), "")
    if raw in STATE_MAP:
        return (raw, *STATE_MAP[raw])
    # Unknown extended code: fall back on its main state (e.g. "2xx" -> 2).
    for length in (2, 1):
        if raw[:length] in STATE_MAP and len(raw) > length:
            tag, _ = STATE_MAP[raw[:length]]
            return raw, tag, "unknown_code"
    return raw, "in_transit", "unknown_code" if raw else None


def parse_time(value: str) -> datetime:
    return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CARRIER_TIMEZONE).astimezone(UTC)


def parse_entries(entries: list, *, now: datetime) -> tuple[list[NormalizedEvent], list[str]]:
    """Normalize `data` entries; absurd or malformed ones are returned as reasons, not events."""
    events: list[NormalizedEvent] = []
    rejected: list[str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            rejected.append(f"data[{index}] is not an object")
            continue
        stamp = entry.get("time") or entry.get("ftime") or ""
        try:
            occurred = parse_time(str(stamp))
        except ValueError:
            rejected.append(f"data[{index}].time {stamp!r} is not YYYY-MM-DD HH:MM:SS")
            continue
        if occurred > now + timedelta(days=1) or occurred < now - timedelta(days=400):
            rejected.append(f"data[{index}].time {stamp!r} is not a plausible event time")
            continue
        context = str(entry.get("context") or "").strip()
        if not context:
            rejected.append(f"data[{index}].context is empty")
            continue
        raw_code, tag, sub_status = normalize_state(entry.get("statusCode"), entry.get("status"))
        location = str(entry.get("areaName") or entry.get("location") or "")[:120]
        events.append(
            NormalizedEvent(
                occurred_at=occurred,
                raw_status_code=raw_code[:16],
                raw_text=context,
                location=location,
                tag=tag,
                sub_status=sub_status,
                raw_payload=json.dumps(entry, ensure_ascii=False, sort_keys=True),
            )
        )
    return events, rejected


def parse_push(param: str, *, now: datetime) -> tuple[TrackingSnapshot, list[str]]:
    try:
        body = json.loads(param)
    except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: nested thousands deep
        raise PushRejected("param is not valid JSON") from exc
    last = body.get("lastResult") if isinstance(body, dict) else None
    if not isinstance(last, dict):
        raise PushRejected("param.lastResult is missing")
    company = str(last.get("com") or body.get("comNew") or "").strip()
    number = str(last.get("nu") or "").strip()
    if not company or not number:
        raise PushRejected("lastResult.com and lastResult.nu are required")
    carrier = CARRIER_BY_COMPANY.get(company)
    if carrier is None:
        raise UnknownCompany(f"unknown company code {company!r}")
    data = last.get("data")
    if not isinstance(data, list):
        raise PushRejected("lastResult.data must be a list")
    events, rejected = parse_entries(data, now=now)
    if data and not events:
        raise PushRejected("no usable event: " + "; ".join(rejected[:5]))
    return TrackingSnapshot(carrier=carrier, tracking_no=number, events=events), rejected


class Kuaidi100Client:
    """The real-time query API, with timeouts, retries with backoff and a cap on
    how many queries run at once (the API rate-limits per account)."""

    name = "kuaidi100"

    def __init__(
        self,
        *,
        base_url: str,
        customer: str,
        key: str,
        timeout: float = 5.0,
        attempts: int = 4,
        backoff: float = 0.5,
        max_concurrency: int = 4,
        transport: httpx.BaseTransport | None = None,
        sleep=time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.customer = customer
        self.key = key
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self.client = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport)

    def fetch(self, carrier: str, tracking_no: str, phone: str | None = None) -> TrackingSnapshot:
        param = json.dumps(
            {"com": COMPANY_CODES.get(carrier, carrier.lower()), "num": tracking_no, "phone": phone or "",
             "resultv2": "4", "show": "0", "order": "desc"},
            ensure_ascii=False, separators=(",", ":"),
        )
        form = {"customer": self.customer, "param": param, "sign": query_sign(param, self.key, self.customer)}
        last_error = "no attempt"
        with self._slots:
            for attempt in range(1, self.attempts + 1):
                try:
                    response = self.client.post(f"{self.base_url}/poll/query.do", data=form)
                    if response.status_code >= 500 or response.status_code == 429:
                        last_error = f"HTTP {response.status_code}"
                    else:
                        response.raise_for_status()
                        body = response.json()
                        if body.get("result") is False:
                            raise CarrierUnavailable(f"query refused: {body.get('returnCode')} {body.get('message')}")
                        events, rejected = parse_entries(body.get("data") or [], now=datetime.now(UTC))
                        for reason in rejected:
                            logger.warning("poll %s %s: skipped %s", carrier, tracking_no, reason)
                        return TrackingSnapshot(carrier=carrier, tracking_no=tracking_no, events=events)
                except (httpx.TransportError, ValueError) as exc:
                    last_error = f"{exc.__class__.__name__}: {exc}"
                except httpx.HTTPStatusError as exc:
                    raise CarrierUnavailable(f"query failed: HTTP {exc.response.status_code}") from exc
                if attempt < self.attempts:
                    self.sleep(self.backoff * 2 ** (attempt - 1))
        raise CarrierUnavailable(f"{carrier} {tracking_no}: {last_error} after {self.attempts} attempts")
