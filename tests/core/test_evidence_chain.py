"""The hash chain: intact records verify, any edit or removal is found."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import text

from core.carriers.base import NormalizedEvent
from core.models import Shipment
from core.services.actors import Actor
from core.services.orders import shipping
from core.services.tracking import evidence
from core.services.tracking.events import append_events
from tests.factories import make_order

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def event(hours_ago: int, text_: str, code: str = "0", tag: str = "in_transit") -> NormalizedEvent:
    return NormalizedEvent(occurred_at=datetime.now(UTC) - timedelta(hours=hours_ago), raw_status_code=code,
                           raw_text=text_, location="杭州市", tag=tag, sub_status=None,
                           raw_payload=json.dumps({"context": text_}, ensure_ascii=False))


@pytest.fixture
def order_with_events(db):
    order = make_order(db, paid=True)
    shipment = shipping.mark_shipped(db, Actor.integration("wh", via="api"), order.ref, carrier="YTO",
                                     tracking_no="YT100", at=datetime.now(UTC) - timedelta(days=2))
    with db.write() as session:
        append_events(session, session.get(Shipment, shipment.id),
                      [event(40, "【杭州市】已揽收", "1", "info_received"), event(30, "【杭州市】已发出"),
                       event(10, "【上海市】已到达")], source="push")
    return order


def test_intact_chain_verifies(db, order_with_events):
    result = evidence.verify_order(db, order_with_events.ref)
    assert result.intact
    assert result.event_count == 3
    assert len(result.digest) == 64


def test_appending_extends_the_chain_and_changes_the_digest(db, order_with_events):
    before = evidence.verify_order(db, order_with_events.ref)
    with db.write() as session:
        shipment = session.exec(text("SELECT id FROM shipment")).scalar()
        append_events(session, session.get(Shipment, shipment), [event(1, "【上海市】派送中", "5")], source="poll")
    after = evidence.verify_order(db, order_with_events.ref)
    assert after.intact and after.event_count == 4
    assert after.digest != before.digest


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("UPDATE tracking_event SET raw_text = '【上海市】已签收' WHERE seq = 2", "event #2 was altered"),
        ("UPDATE tracking_event SET occurred_at = occurred_at + interval '1 hour' WHERE seq = 1", "event #1 was altered"),
        ("DELETE FROM tracking_event WHERE seq = 2", "event #2 is missing"),
    ],
)
def test_an_edited_or_removed_row_fails_verification(db, order_with_events, tamper, problem):
    if db.is_sqlite:
        tamper = tamper.replace("occurred_at + interval '1 hour'", "datetime(occurred_at, '+1 hour')")
    with db.engine.begin() as conn:  # behind the application's back, as an attacker would
        conn.execute(text(tamper))
    result = evidence.verify_order(db, order_with_events.ref)
    assert not result.intact
    assert problem in result.checks[0].problem


def test_cli_exit_code_says_whether_the_record_is_intact(db, order_with_events, tmp_path):
    env = {"DATABASE_URL": db.url.replace("+psycopg", ""), "ORDERDESK_VAR_DIR": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "core.cli", "verify-evidence", order_with_events.ref], cwd=ROOT,
                        env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "OK: the carrier record is intact" in ok.stdout
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE tracking_event SET location = '北京市' WHERE seq = 3"))
    bad = subprocess.run([sys.executable, "-m", "core.cli", "verify-evidence", order_with_events.ref], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert "ALTERED: event #3 was altered" in bad.stdout


def _pack(db, ref):
    return evidence.get_or_build_pack(db, ref, audience="customer", render=lambda content, audience: b"%PDF-fake")


def test_verify_page_for_a_pack(client, db, order_with_events):
    pack = _pack(db, order_with_events.ref)
    page = BeautifulSoup(client.get(f"/verify/{pack.digest}").text, "html.parser")
    assert page.select_one(".notice h2").get_text(strip=True) == "记录完整"
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE tracking_event SET raw_text = 'x' WHERE seq = 1"))
    page = BeautifulSoup(client.get(f"/verify/{pack.digest}").text, "html.parser")
    assert page.select_one(".notice h2").get_text(strip=True) == "记录已被改动"
    assert "event #1 was altered" in page.select_one(".notice ul").get_text()


def test_verify_page_tolerates_later_events_and_unknown_digests(client, db, order_with_events):
    pack = _pack(db, order_with_events.ref)
    with db.write() as session:
        shipment = session.exec(text("SELECT id FROM shipment")).scalar()
        append_events(session, session.get(Shipment, shipment), [event(1, "【上海市】派送中", "5")], source="poll")
    page = BeautifulSoup(client.get(f"/verify/{pack.digest}").text, "html.parser")
    assert page.select_one(".notice h2").get_text(strip=True) == "记录完整"
    assert "1" in page.select(".notice p")[1].get_text()
    unknown = BeautifulSoup(client.get("/verify/" + "0" * 64).text, "html.parser")
    assert unknown.select_one(".notice h2").get_text(strip=True) == "未知的摘要"


def test_same_chain_state_is_served_from_the_cache(db, order_with_events):
    calls = []

    def render(content, audience):
        calls.append(audience)
        return b"%PDF-" + content.verification.digest.encode()

    first = evidence.get_or_build_pack(db, order_with_events.ref, audience="customer", render=render)
    second = evidence.get_or_build_pack(db, order_with_events.ref, audience="customer", render=render)
    assert calls == ["customer"]
    assert first.pdf == second.pdf and first.id == second.id
