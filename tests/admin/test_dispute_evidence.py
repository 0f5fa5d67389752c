"""A dispute's evidence pack: generating it attaches the order's current pack (audited with its digest),
downloading it is recorded and audited, a role that may not see full personal data gets the masked
rendering, and warehouse staff reach only their warehouse's disputes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.models import AuditEntry, Dispute, EvidenceDownload, EvidencePack
from core.services.actors import Actor
from core.services.disputes import cases as disputes
from tests.factories import deliver, make_order, ship


def delivered_dispute(db, cast, warehouse) -> tuple[str, int]:  # noqa: ANN001
    order = make_order(db, paid=True, warehouse_id=warehouse.id)
    ship(db, order.ref, at=datetime.now(UTC) - timedelta(days=2))
    deliver(db, order.ref, at=datetime.now(UTC) - timedelta(days=1))
    return order.ref, disputes.open_dispute(db, Actor.staff_member(cast["admin"]), order.ref, kind="late", claim="太慢了").id


@pytest.fixture
def dispute(db, cast, warehouses) -> tuple[str, int]:
    return delivered_dispute(db, cast, warehouses["HZ"])


def audited(db, action: str) -> list[dict]:
    with db.read() as session:
        return [{"actor": e.actor, "order_ref": e.order_ref, **json.loads(e.detail)}
                for e in session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))]


def downloads(db) -> list[tuple[str, str]]:
    with db.read() as session:
        return [(d.actor, d.via) for d in session.exec(select(EvidenceDownload).order_by(EvidenceDownload.id))]


def test_generating_attaches_the_pack_and_is_audited_once_per_version(as_staff, db, dispute):
    ref, dispute_id = dispute
    client = as_staff("supervisor")
    response = client.post(f"/admin/disputes/{dispute_id}/evidence", data={"_csrf_token": client.csrf},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/admin/disputes/{dispute_id}"
    with db.read() as session:
        attached = session.get(Dispute, dispute_id)
        pack = session.get(EvidencePack, attached.evidence_pack_id)
    assert attached.status == "evidence_ready" and pack.audience == "staff"
    client.post(f"/admin/disputes/{dispute_id}/evidence", data={"_csrf_token": client.csrf})
    assert audited(db, "evidence_generate") == [
        {"actor": "supervisor@shop.test", "order_ref": ref, "dispute": dispute_id, "digest": pack.digest,
         "new_version": True},
        {"actor": "supervisor@shop.test", "order_ref": ref, "dispute": dispute_id, "digest": pack.digest,
         "new_version": False},
    ]
    assert downloads(db) == [("supervisor@shop.test", "admin")] * 2


def test_a_role_without_full_personal_data_downloads_the_masked_rendering(as_staff, db, dispute):
    ref, dispute_id = dispute
    supervisor, support = as_staff("supervisor"), as_staff("support")
    assert support.get(f"/admin/disputes/{dispute_id}/evidence.pdf", follow_redirects=False).status_code == 303
    assert audited(db, "evidence_download") == []  # nothing attached yet: back to the dispute, nothing taken
    supervisor.post(f"/admin/disputes/{dispute_id}/evidence", data={"_csrf_token": supervisor.csrf})
    for client in (supervisor, support):
        response = client.get(f"/admin/disputes/{dispute_id}/evidence.pdf")
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        assert response.headers["content-disposition"].startswith(f'attachment; filename="dispute-{dispute_id}-{ref}-')
    entries = audited(db, "evidence_download")
    assert [(e["actor"], e["audience"]) for e in entries] == [("supervisor@shop.test", "staff"),
                                                             ("support@shop.test", "masked")]
    assert entries[0]["digest"] == entries[1]["digest"]  # the same chain state, masked
    assert downloads(db)[-2:] == [("supervisor@shop.test", "admin"), ("support@shop.test", "admin")]


def test_warehouse_staff_cannot_reach_another_warehouses_dispute_pack(as_staff, db, cast, warehouses):
    _ref, dispute_id = delivered_dispute(db, cast, warehouses["GZ"])
    admin = as_staff("admin")
    admin.post(f"/admin/disputes/{dispute_id}/evidence", data={"_csrf_token": admin.csrf})
    before = downloads(db), audited(db, "evidence_download")
    assert as_staff("warehouse").get(f"/admin/disputes/{dispute_id}/evidence.pdf").status_code == 404
    assert (downloads(db), audited(db, "evidence_download")) == before
