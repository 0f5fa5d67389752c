"""Customer sessions: a fresh random token per sign-in, timeouts enforced on
the server (not by the cookie's expiry), and sign-out."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from core.models import CustomerSession
from core.services.identity import customer_sessions as sessions

PHONE = "+8613800138000"
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
IDLE = timedelta(minutes=120)
ABSOLUTE = timedelta(hours=72)


def phone_at(db, token: str | None, at: datetime) -> str | None:  # noqa: ANN001
    return sessions.session_phone(db, token, idle=IDLE, absolute=ABSOLUTE, now=at)


def stored_sessions(db) -> list[CustomerSession]:  # noqa: ANN001
    with db.read() as session:
        return list(session.exec(select(CustomerSession)).all())


def test_each_sign_in_gets_a_fresh_token(db):
    tokens = {sessions.start_session(db, phone=PHONE, now=T0) for _ in range(3)}
    assert len(tokens) == 3
    assert all(len(token) >= 40 for token in tokens)
    assert all(phone_at(db, token, T0 + timedelta(minutes=1)) == PHONE for token in tokens)


def test_only_a_hash_of_the_token_is_stored(db):
    token = sessions.start_session(db, phone=PHONE, client_ip="203.0.113.7", user_agent="WeChat", now=T0)
    [row] = stored_sessions(db)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in [str(value) for value in row.model_dump().values()]


def test_unknown_or_missing_token_has_no_phone(db):
    sessions.start_session(db, phone=PHONE, now=T0)
    assert phone_at(db, None, T0) is None
    assert phone_at(db, "", T0) is None
    assert phone_at(db, "not-a-token", T0) is None


def test_session_ends_after_being_idle_too_long(db):
    token = sessions.start_session(db, phone=PHONE, now=T0)
    assert phone_at(db, token, T0 + IDLE) == PHONE
    assert phone_at(db, token, T0 + 2 * IDLE + timedelta(seconds=1)) is None
    assert stored_sessions(db) == [], "the timed-out session is deleted, not just ignored"
    assert phone_at(db, token, T0 + IDLE) is None, "and stays dead even if the clock were earlier"


def test_activity_keeps_a_session_alive(db):
    token = sessions.start_session(db, phone=PHONE, now=T0)
    at = T0
    for _ in range(10):
        at += IDLE - timedelta(minutes=1)
        assert phone_at(db, token, at) == PHONE
    [row] = stored_sessions(db)
    assert row.last_seen_at == at


def test_session_ends_at_the_absolute_limit_however_active(db):
    token = sessions.start_session(db, phone=PHONE, now=T0)
    at = T0
    while at + timedelta(minutes=90) <= T0 + ABSOLUTE:
        at += timedelta(minutes=90)
        assert phone_at(db, token, at) == PHONE
    assert phone_at(db, token, T0 + ABSOLUTE + timedelta(seconds=1)) is None
    assert stored_sessions(db) == []


def test_end_session_signs_out_that_session_only(db):
    first = sessions.start_session(db, phone=PHONE, now=T0)
    second = sessions.start_session(db, phone=PHONE, now=T0)
    sessions.end_session(db, first)
    assert phone_at(db, first, T0 + timedelta(minutes=1)) is None
    assert phone_at(db, second, T0 + timedelta(minutes=1)) == PHONE
    assert len(stored_sessions(db)) == 1
    sessions.end_session(db, None)
    sessions.end_session(db, "unknown")
    assert len(stored_sessions(db)) == 1


def test_end_sessions_for_phone_signs_out_everywhere(db):
    for _ in range(2):
        sessions.start_session(db, phone=PHONE, now=T0)
    other = sessions.start_session(db, phone="+8613912345678", now=T0)
    assert sessions.end_sessions_for_phone(db, PHONE) == 2
    assert [row.phone for row in stored_sessions(db)] == ["+8613912345678"]
    assert phone_at(db, other, T0) == "+8613912345678"
