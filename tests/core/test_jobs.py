"""The periodic jobs, the in-process scheduler, and a real procrastinate worker killed mid-job."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from core.config import get_settings
from core.jobs import tasks
from core.jobs.inprocess import Scheduler
from core.models import JobRun, Order, OrderStatus, OutboxMessage
from core.services.actors import Actor
from core.services.orders import lifecycle as order_service
from core.services.orders import shipping
from core.services.orders.address_change import change_address
from core.services.tracking.evidence import verify_order
from tests.conftest import fresh_database_url
from tests.factories import add_event, make_order

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = get_settings()

SYSTEM = Actor.system(via="test")


def shipped_order(db, *, promised_hours_ago: float):
    order = make_order(db, paid=True)
    shipping.mark_shipped(db, Actor.integration("t", via="api"), order.ref, carrier="SF",
                          tracking_no=f"SF{order.id:06d}", at=datetime.now(UTC) - timedelta(days=3))
    with db.write() as session:
        fresh = session.get(Order, order.id)
        fresh.promised_delivery_by = datetime.now(UTC) - timedelta(hours=promised_hours_ago)
        session.add(fresh)
    return order


def test_promise_breach_tells_each_customer_once(db):
    late = shipped_order(db, promised_hours_ago=5)
    shipped_order(db, promised_hours_ago=-20)  # still within its promise
    now = datetime.now(UTC)
    assert tasks.promise_breaches(db, SETTINGS, now) == "1 orders past their promise, 1 newly told"
    assert tasks.promise_breaches(db, SETTINGS, now) == "1 orders past their promise, 0 newly told"
    with db.read() as session:
        delayed = session.exec(select(OutboxMessage).where(OutboxMessage.event == "delayed")).all()
    assert [m.order_id for m in delayed] == [late.id]


def test_consistency_check_reports_differences(db):
    order = make_order(db, paid=True)
    assert tasks.consistency_check(db, SETTINGS, datetime.now(UTC)) == "0 differences"
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET status = 'shipped' WHERE id = :id"), {"id": order.id})
    assert f"{order.ref}: shipped without a shipment" in tasks.consistency_check(db, SETTINGS, datetime.now(UTC))


def test_retention_anonymises_old_orders_and_keeps_the_evidence_verifiable(db):
    old = shipped_order(db, promised_hours_ago=1)
    shipment_id = order_service.get_order(db, old.ref).shipments[0].id
    add_event(db, shipment_id, occurred_at=datetime.now(UTC) - timedelta(days=2), raw_text="已签收", tag="delivered",
              raw_status_code="3")
    recent = make_order(db, paid=True)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET updated_at = :t WHERE id = :id"),
                     {"t": datetime.now(UTC) - timedelta(days=365 * 3 + 10), "id": old.id})
    outcome = tasks.retention(db, SETTINGS, datetime.now(UTC))
    assert outcome == "1 orders anonymised (older than 3 years), 0 photos deleted"
    anonymised = order_service.get_order(db, old.ref)
    assert anonymised.ship_recipient == "已匿名" and anonymised.ship_phone == "" and anonymised.ship_street == ""
    assert anonymised.total_minor == old.total_minor
    assert verify_order(db, old.ref).intact
    assert order_service.get_order(db, recent.ref).ship_recipient == "张三"
    assert tasks.retention(db, SETTINGS, datetime.now(UTC)).startswith("0 orders")


def test_retention_also_forgets_the_phone_and_address_other_records_picked_up(db):
    phone = "+8613912345678"
    old = make_order(db, paid=True, phone=phone, customer_email="li.si@example.com")
    change_address(db, Actor.customer(phone), old.ref, {"recipient": "李四", "phone": "13912345678", "province": "浙江省", "city": "杭州市",
                                 "district": "西湖区", "street": "文三路 99 号 7 幢 702 室"})
    shipping.mark_shipped(db, Actor.integration("t", via="api"), old.ref, carrier="SF", tracking_no="SF5550001",
                          at=datetime.now(UTC) - timedelta(days=3))
    with db.write() as session:
        order_service.transition(session, order_service.lock_order(session, old.ref), OrderStatus.DELIVERED, actor="carrier",
                                 via="carrier")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET updated_at = :t WHERE id = :id"),
                     {"t": datetime.now(UTC) - timedelta(days=365 * 3 + 10), "id": old.id})
    assert tasks.retention(db, SETTINGS, datetime.now(UTC)).startswith("1 orders anonymised")

    with db.engine.connect() as conn:
        kept = " ".join(
            str(value) for table in ("order_history", "warehouse_task", "outbox_message", "orders")
            for row in conn.execute(text(f"SELECT * FROM {table} WHERE order_id = :id" if table != "orders"
                                         else "SELECT * FROM orders WHERE id = :id"), {"id": old.id})
            for value in row)
        kinds = [k for (k,) in conn.execute(text("SELECT kind FROM order_history WHERE order_id = :id ORDER BY id"),
                                            {"id": old.id})]
    for personal in ("13912345678", "文三路", "李四", "张三", "li.si@example.com"):
        assert personal not in kept, personal
    with db.engine.connect() as conn:
        assert list(conn.execute(text("SELECT name, email FROM customer"))) == [("", None)]
    # What happened, and when, is still on record.
    assert kinds[:2] == ["created", "status"] and "address_changed" in kinds and kinds[-1] == "anonymised"


def test_scheduler_runs_each_job_at_its_interval(db):
    scheduler = Scheduler(db, SETTINGS)
    first = scheduler.run_due(now=1000.0)
    assert set(first) == {job.name for job in tasks.JOBS}
    assert scheduler.run_due(now=1005.0) == []
    assert scheduler.run_due(now=1016.0) == ["deliver_outbox"]
    with db.read() as session:
        runs = {run.name: run for run in session.exec(select(JobRun)).all()}
    assert runs["consistency_check"].outcome == "0 differences" and runs["consistency_check"].finished_at


class SlowGateway(BaseHTTPRequestHandler):
    """An SMS gateway whose first request hangs (so the worker is caught mid-send); later ones succeed."""

    hang = threading.Event()
    accepted: list = []
    seen = 0

    def do_POST(self):  # noqa: N802
        type(self).seen += 1
        body = self.rfile.read(int(self.headers["content-length"]))
        if type(self).seen == 1:
            type(self).hang.wait(60)
            return
        type(self).accepted.append(json.loads(body))
        payload = json.dumps({"message_id": f"gw{len(type(self).accepted)}"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def test_a_worker_killed_mid_job_leaves_the_message_to_the_next(tmp_path, postgres_server_url):
    url, cleanup = fresh_database_url("postgresql", tmp_path)
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), SlowGateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    env = {**os.environ, "DATABASE_URL": url, "ORDERDESK_VAR_DIR": str(tmp_path), "SMS_PROVIDER": "http",
           "SMS_HTTP_URL": f"http://127.0.0.1:{gateway.server_port}/send", "SMS_HTTP_KEY": "k",
           "SMS_HTTP_SECRET": "s", "SMS_HTTP_TIMEOUT_SECONDS": "30", "ORDERDESK_OUTBOX_LEASE_SECONDS": "3"}
    cli = [sys.executable, "-m", "core.cli"]
    workers = []
    try:
        subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
        from core.db import Database

        db = Database(url)
        order = make_order(db)
        change_address(db, SYSTEM, order.ref, {"recipient": "王五", "phone": "13700000000", "province": "浙江省",
                                       "city": "杭州市", "district": "上城区", "street": "解放路 1 号 101 室"})
        workers.append(subprocess.Popen([*cli, "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + 60
        while SlowGateway.seen == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert SlowGateway.seen == 1, "the first worker never reached the gateway"
        os.killpg(workers[0].pid, signal.SIGKILL)  # dies mid-send
        workers[0].wait(10)
        SlowGateway.hang.set()
        with db.read() as session:
            assert session.exec(select(OutboxMessage.status)).one() == "sending"
        workers.append(subprocess.Popen([*cli, "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with db.read() as session:
                message = session.exec(select(OutboxMessage)).one()
            if message.status == "sent":
                break
            time.sleep(0.5)
        assert message.status == "sent"
        assert message.attempts == 2
        assert len(SlowGateway.accepted) == 1  # delivered once; the killed attempt was never accepted
        db.dispose()
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(20)
        gateway.shutdown()
        cleanup()


@pytest.fixture(autouse=True)
def _reset_gateway():
    SlowGateway.seen, SlowGateway.accepted = 0, []
    SlowGateway.hang.clear()
