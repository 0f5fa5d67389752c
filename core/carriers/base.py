"""The common interface of carrier sources (push webhooks and poll clients)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class NormalizedEvent:
    """One carrier event: the raw fields kept verbatim, plus what we derive."""

    occurred_at: datetime
    raw_status_code: str
    raw_text: str
    location: str
    tag: str
    sub_status: str | None
    raw_payload: str

    @property
    def dedup_key(self) -> str:
        """The same event seen twice (pushed again, or seen by push and by poll)
        has the same time, text and code, whatever else the envelope says."""
        material = f"{self.occurred_at.isoformat()}|{self.raw_status_code}|{self.raw_text.strip()}"
        return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TrackingSnapshot:
    carrier: str
    tracking_no: str
    events: list[NormalizedEvent]


class CarrierUnavailable(Exception):
    """The carrier's API could not be reached or kept failing after retries."""


class TrackingSource(Protocol):
    name: str

    def fetch(self, carrier: str, tracking_no: str, phone: str | None = None) -> TrackingSnapshot:
        """All events the source knows for a parcel; raises CarrierUnavailable."""
        ...
