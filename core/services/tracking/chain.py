"""The tamper-evident hash chain over each shipment's carrier events.

Each event's hash covers its canonical content and the previous event's hash,
in arrival order (seq 1, 2, ...). Changing any stored field, or removing a
row, changes every hash after it, and recomputation says where.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

GENESIS = "0" * 64


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


def canonical_event(
    *,
    carrier: str,
    tracking_no: str,
    seq: int,
    occurred_at: datetime,
    received_at: datetime,
    raw_status_code: str,
    raw_text: str,
    location: str,
    tag: str,
    sub_status: str | None,
    source: str,
    raw_payload: str,
    dedup_key: str,
) -> bytes:
    return json.dumps(
        {
            "carrier": carrier,
            "tracking_no": tracking_no,
            "seq": seq,
            "occurred_at": _iso(occurred_at),
            "received_at": _iso(received_at),
            "raw_status_code": raw_status_code,
            "raw_text": raw_text,
            "location": location,
            "tag": tag,
            "sub_status": sub_status,
            "source": source,
            "raw_payload": raw_payload,
            "dedup_key": dedup_key,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")


def link_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical).hexdigest()


def event_content(event, carrier: str, tracking_no: str) -> bytes:  # noqa: ANN001
    return canonical_event(
        carrier=carrier, tracking_no=tracking_no, seq=event.seq, occurred_at=event.occurred_at,
        received_at=event.received_at, raw_status_code=event.raw_status_code, raw_text=event.raw_text,
        location=event.location, tag=event.tag, sub_status=event.sub_status, source=event.source,
        raw_payload=event.raw_payload, dedup_key=event.dedup_key,
    )


@dataclass(frozen=True)
class ChainCheck:
    tracking_no: str
    intact: bool
    event_count: int
    head: str
    problem: str | None = None
    broken_at_seq: int | None = None


def check_chain(events: list, carrier: str, tracking_no: str) -> ChainCheck:  # noqa: ANN001
    """Recompute a shipment's chain from its events (any order; sorted by seq here)."""
    prev = GENESIS
    for expected_seq, event in enumerate(sorted(events, key=lambda e: e.seq), start=1):
        if event.seq != expected_seq:
            return ChainCheck(tracking_no, False, len(events), prev,
                              f"event #{expected_seq} is missing (removed?)", expected_seq)
        if event.prev_hash != prev:
            return ChainCheck(tracking_no, False, len(events), prev,
                              f"event #{event.seq} does not link to the event before it", event.seq)
        recomputed = link_hash(prev, event_content(event, carrier, tracking_no))
        if recomputed != event.chain_hash:
            return ChainCheck(tracking_no, False, len(events), prev,
                              f"event #{event.seq} was altered after it was recorded", event.seq)
        prev = recomputed
    return ChainCheck(tracking_no, True, len(events), prev)


def order_digest(heads: dict[str, tuple[str, int]]) -> str:
    """One digest for the state of all of an order's chains: tracking number -> (head, count)."""
    material = json.dumps({k: [h, n] for k, (h, n) in sorted(heads.items())}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()
