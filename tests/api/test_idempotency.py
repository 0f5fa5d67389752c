"""Idempotency-Key: the same request again replays the first answer; nothing happens twice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlmodel import select

from core.models import ApiIdempotency, Order, OrderHistory, utcnow
from core.services.actors import Actor
from core.services.channels import idempotency
from core.services.channels.push import record_shipment
from core.services.orders import lifecycle as order_service
from tests.api.conftest import make_key, order_payload
from tests.factories import make_order


def counts(db) -> tuple[int, int]:  # noqa: ANN001
    with db.read() as session:
        return len(session.exec(select(Order)).all()), len(session.exec(select(OrderHistory)).all())


def test_same_key_and_body_replays_the_same_answer_without_doing_it_again(api, db):
    first = api.post("/api/v1/orders", order_payload(), idempotency_key="erp-batch-0001")
    after_first = counts(db)
    replay = api.post("/api/v1/orders", order_payload(), idempotency_key="erp-batch-0001")
    assert (replay.status_code, replay.content) == (first.status_code, first.content)
    assert replay.json()["results"][0]["outcome"] == "new"  # the first answer, not "unchanged"
    assert replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert counts(db) == after_first == (1, 1)


def test_same_key_with_another_body_is_refused(api, db):
    api.post("/api/v1/orders", order_payload(), idempotency_key="k1")
    response = api.post("/api/v1/orders", order_payload("TB-OTHER"), idempotency_key="k1")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "idempotency_key_reused"
    assert body["errors"] == [{"field": "Idempotency-Key", "message": "already used with a different request"}]
    assert counts(db)[0] == 1


def test_keys_belong_to_their_integration(api, db):
    other = make_key(db, name="JD ERP")
    api.post("/api/v1/orders", order_payload(), idempotency_key="same")
    response = api.post("/api/v1/orders", order_payload("JD-1", channel="jd"), key=other, idempotency_key="same")
    assert response.status_code == 200
    assert response.json()["results"][0]["outcome"] == "new"


def test_refusals_are_replayed_too(api, db):
    path = "/api/v1/orders/taobao/NOPE/shipments"
    first = api.post(path, {"carrier": "SF", "tracking_no": "SF100200300"}, idempotency_key="s1")
    assert first.status_code == 404
    again = api.post(path, {"carrier": "SF", "tracking_no": "SF100200300"}, idempotency_key="s1")
    assert (again.status_code, again.content) == (404, first.content)


def test_a_key_older_than_24_hours_is_forgotten_and_purged(api, db):
    api.post("/api/v1/orders", order_payload(), idempotency_key="old")
    with db.write() as session:
        row = session.exec(select(ApiIdempotency)).one()
        row.created_at = utcnow() - timedelta(hours=25)
        session.add(row)
    again = api.post("/api/v1/orders", order_payload(), idempotency_key="old")
    assert again.json()["results"][0]["outcome"] == "unchanged"  # done afresh: the order already exists
    with db.write() as session:
        session.exec(select(ApiIdempotency)).one().created_at = utcnow() - timedelta(hours=25)
    assert idempotency.purge(db) == 1
    with db.read() as session:
        assert session.exec(select(ApiIdempotency)).all() == []


def test_purge_job_is_scheduled_and_keeps_fresh_entries(api, db):
    from core.config import get_settings
    from core.jobs.tasks import JOBS_BY_NAME, run_job

    api.post("/api/v1/orders", order_payload(), idempotency_key="fresh")
    assert JOBS_BY_NAME["purge_idempotency"].every == timedelta(hours=1)
    assert run_job(db, get_settings(), "purge_idempotency") == (
        "0 idempotency entries older than 24 h removed, 0 rate-limit counts older than 1 h")
    with db.read() as session:
        assert len(session.exec(select(ApiIdempotency)).all()) == 1


def test_concurrent_duplicates_ship_once_and_both_get_the_first_answer(db, integration):
    """Eight retries of one "shipped" call at the same moment: one shipment, one answer."""
    order = make_order(db, paid=True)
    start = threading.Barrier(8, timeout=30)
    integration_id = _integration_id(db)

    def attempt(n: int) -> idempotency.Reply:
        start.wait()
        return idempotency.run(
            db, integration_id=integration_id, key="wms-ship-1", fingerprint="same request",
            action=lambda session: _ship(session, order.channel_order_no), on_error=_refused)

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = [future.result(timeout=60) for future in [pool.submit(attempt, n) for n in range(8)]]
    assert [r.replayed for r in replies].count(False) == 1
    assert {(r.status_code, r.body["tracking_no"]) for r in replies} == {(201, "SF777")}
    shipped = order_service.get_order(db, order.ref)
    assert len(shipped.shipments) == 1
    assert [h.kind for h in shipped.history].count("status") == 2  # paid, shipped: once each


def _integration_id(db) -> int:  # noqa: ANN001
    from core.models import ApiIntegration

    with db.read() as session:
        return session.exec(select(ApiIntegration)).one().id


def _ship(session, channel_order_no: str) -> idempotency.Reply:  # noqa: ANN001
    done = record_shipment(session, Actor.integration("api:test"), "taobao", channel_order_no, carrier="SF",
                           tracking_no="SF777", shipped_at=None)
    return idempotency.Reply(201, {"tracking_no": done.shipment.tracking_no})


def _refused(exc) -> idempotency.Reply:  # noqa: ANN001
    return idempotency.Reply(409, {"tracking_no": None, "error": str(exc)})
