"""The real client code against the simulated carrier, over real HTTP on loopback."""

import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from sqlmodel import select

from core.carriers.base import CarrierUnavailable
from core.carriers.kuaidi100 import Kuaidi100Client
from core.config import get_settings
from core.models import Shipment, TrackingEvent
from core.services.actors import Actor
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from core.services.tracking.evidence import verify_order
from core.services.tracking.polling import poll_round
from devservers.carrier import create_simulator
from tests.factories import make_order

CUSTOMER, KEY = "sim-customer", "sim-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerThread:
    def __init__(self, app):
        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def simulator():
    with ServerThread(create_simulator(customer=CUSTOMER, key=KEY,
                                       start=datetime.now(UTC) - timedelta(days=2))) as url:
        yield url


def client_for(url, attempts=4):
    return Kuaidi100Client(base_url=url, customer=CUSTOMER, key=KEY, attempts=attempts, backoff=0.01, timeout=2)


def shipped(db, number, carrier="ZTO"):
    order = make_order(db, paid=True)
    shipping.mark_shipped(db, Actor.integration("wh", via="api"), order.ref, carrier=carrier, tracking_no=number,
                          at=datetime.now(UTC) - timedelta(days=2))
    return order


def stored(db, number):
    with db.read() as session:
        return session.exec(
            select(TrackingEvent).join(Shipment).where(Shipment.tracking_no == number).order_by(TrackingEvent.seq)
        ).all()


def test_query_survives_a_short_outage(simulator):
    httpx.post(f"{simulator}/sim/outage", json={"count": 2})
    snapshot = client_for(simulator).fetch("ZTO", "7300001")
    assert len(snapshot.events) == 1
    assert snapshot.events[0].raw_status_code == "1"
    assert httpx.get(f"{simulator}/sim/state").json()["failed"] == 2


def test_query_gives_up_after_its_retries(simulator):
    httpx.post(f"{simulator}/sim/outage", json={"count": 10})
    with pytest.raises(CarrierUnavailable, match="503"):
        client_for(simulator, attempts=3).fetch("ZTO", "7300002")


def test_wrong_credentials_are_refused(simulator):
    bad = Kuaidi100Client(base_url=simulator, customer=CUSTOMER, key="wrong", attempts=1)
    with pytest.raises(CarrierUnavailable, match="验证签名失败"):
        bad.fetch("ZTO", "7300003")


def test_polling_resumes_after_an_outage_without_losing_or_doubling(db, simulator):
    for n in range(4):
        shipped(db, f"73000{n}")
    httpx.post(f"{simulator}/sim/outage", json={"count": 3})
    first = poll_round(db, client_for(simulator, attempts=1), workers=1)
    assert len(first.failed) == 3 and first.polled == 1
    for n in range(4):
        httpx.post(f"{simulator}/sim/advance", json={"number": f"73000{n}", "company": "zhongtong"})
    second = poll_round(db, client_for(simulator), workers=2)
    # The three that failed are due first; the one polled a moment ago waits its interval.
    assert second.polled == 3 and not second.failed
    third = poll_round(db, client_for(simulator), workers=2, now=datetime.now(UTC) + timedelta(hours=1))
    assert third.polled == 4
    for n in range(4):
        events = stored(db, f"73000{n}")
        assert len(events) == 2
        assert len({e.dedup_key for e in events}) == 2


@pytest.fixture
def live_app(db):
    from app import create_app

    with ServerThread(create_app(get_settings(), db)) as url:
        yield url


def subscribe(simulator, live_app, number, company="zhongtong"):
    import json

    param = json.dumps({"company": company, "number": number, "key": KEY,
                        "parameters": {"callbackurl": f"{live_app}/webhooks/kuaidi100",
                                       "salt": get_settings().push_salt}})
    assert httpx.post(f"{simulator}/poll", data={"schema": "json", "param": param}).json()["result"] is True


def test_pushes_with_duplicates_out_of_order_and_a_correction(db, simulator, live_app):
    order = shipped(db, "7300100")
    subscribe(simulator, live_app, "7300100")
    for mode in ["normal", "duplicate", "out_of_order", "normal", "normal"]:
        answer = httpx.post(f"{simulator}/sim/advance", json={"number": "7300100", "mode": mode}).json()
        assert set(answer["push_status"]) == {200}
    assert answer["revealed"] == 6
    httpx.post(f"{simulator}/sim/advance", json={"number": "7300100", "mode": "correction"})
    events = stored(db, "7300100")
    texts = [e.raw_text for e in events]
    assert len(texts) == len(set(texts)) == 7  # six stream events, one correction, nothing twice
    assert any("更正" in t for t in texts)
    assert verify_order(db, order.ref).intact
    assert order_service.get_order(db, order.ref).status == "delivered"


def test_push_during_an_outage_is_lost_by_the_sender_and_recovered_by_polling(db, simulator, live_app):
    shipped(db, "7300200")
    subscribe(simulator, live_app, "7300200")
    httpx.post(f"{simulator}/sim/outage", json={"count": 1})
    answer = httpx.post(f"{simulator}/sim/advance", json={"number": "7300200"}).json()
    assert answer["push_status"] == [0]
    assert stored(db, "7300200") == []
    poll_round(db, client_for(simulator))
    assert len(stored(db, "7300200")) == 2
