"""A shopper's sign-in is one transaction: the code is used, the earlier session ends, the new one
starts and a WeChat account waiting in the browser is linked, or none of it happens."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.models import CustomerSession, LoginCode, WechatBinding
from core.services.actors import Actor
from core.services.identity import customer_sessions, shopper_sign_in, wechat_login
from core.services.identity import phone_codes as verification
from core.services.identity.phone_codes import CodeRejected, CodeSent
from core.services.identity.wechat_login import BindResult
from tests.factories import ALICE_PHONE, BOB_PHONE
from tests.sms import RecordingSms

SECRET = "sign-in-test-secret-0123456789abcdef"
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ALICE = "+8613800138000"
OPENID = "o-test-openid-000001"




@pytest.fixture
def sms() -> RecordingSms:
    return RecordingSms()


def ask(db, sms: RecordingSms, phone: str = ALICE_PHONE) -> tuple[CodeSent, str]:  # noqa: ANN001
    sent = verification.request_code(db, sms, raw_phone=phone, client_ip="203.0.113.7", secret=SECRET, now=T0)
    return sent, re.search(r"Your code: (\d{6})", sms.sent[-1][1]).group(1)


def sign_in(db, sent: CodeSent, code: str, *, phone: str = ALICE, **kwargs) -> shopper_sign_in.SignedIn:  # noqa: ANN001, ANN003
    return shopper_sign_in.sign_in_with_code(db, Actor.customer(phone, client_ip="203.0.113.7"),
                                             challenge=sent.challenge, code=code, secret=SECRET,
                                             now=T0 + timedelta(seconds=30), **kwargs)


def code_row(db) -> LoginCode:  # noqa: ANN001
    with db.read() as session:
        return session.exec(select(LoginCode)).one()


def customer_sessions_of(db) -> list[CustomerSession]:  # noqa: ANN001
    with db.read() as session:
        return list(session.exec(select(CustomerSession)).all())


def waiting_wechat_login(db, openid: str = OPENID) -> str:  # noqa: ANN001
    """A browser back from WeChat with an openid not linked yet: its pending token."""
    state = wechat_login.start_login(db, "/orders")
    accepted = wechat_login.use_state(db, state=state, browser_state=state)
    outcome = shopper_sign_in.sign_in_with_wechat(db, accepted.login_id, openid)
    assert outcome.session_token is None
    return outcome.pending


def test_right_code_opens_a_session_for_the_phone(db, sms):
    sent, code = ask(db, sms)
    signed_in = sign_in(db, sent, code, user_agent="Safari")
    assert signed_in.phone == ALICE and signed_in.wechat_link == BindResult.NONE
    [row] = customer_sessions_of(db)
    assert (row.phone, row.client_ip, row.user_agent) == (ALICE, "203.0.113.7", "Safari")
    assert code_row(db).used_at is not None


def test_signing_in_ends_the_session_the_browser_held(db, sms):
    held = customer_sessions.start_session(db, phone=BOB_PHONE)
    sent, code = ask(db, sms)
    signed_in = sign_in(db, sent, code, replaces=held)
    assert [row.phone for row in customer_sessions_of(db)] == [ALICE]
    assert signed_in.session_token != held


def test_a_code_proves_only_the_phone_it_was_sent_to(db, sms):
    sent, code = ask(db, sms)
    with pytest.raises(CodeRejected, match="expired or was already used"):
        sign_in(db, sent, code, phone="+8613912345678")
    assert code_row(db).used_at is None and code_row(db).wrong_attempts == 0
    assert customer_sessions_of(db) == []


def test_a_sign_in_whose_session_cannot_be_written_leaves_the_code_unused(db, sms, monkeypatch):
    sent, code = ask(db, sms)
    held = customer_sessions.start_session(db, phone=ALICE)

    def broken_session(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("database full")

    with monkeypatch.context() as patched:
        patched.setattr(customer_sessions, "open_session", broken_session)
        with pytest.raises(RuntimeError):
            sign_in(db, sent, code, replaces=held)
    assert code_row(db).used_at is None, "the code was not spent"
    assert len(customer_sessions_of(db)) == 1, "the session the browser held was not ended"
    assert sign_in(db, sent, code).phone == ALICE


def test_the_waiting_wechat_account_is_linked_by_the_sign_in(db, sms):
    pending = waiting_wechat_login(db)
    sent, code = ask(db, sms)
    assert sign_in(db, sent, code, wechat_pending=pending).wechat_link == BindResult.LINKED
    with db.read() as session:
        assert [b.openid for b in session.exec(select(WechatBinding)).all()] == [OPENID]


def test_a_link_that_cannot_be_written_undoes_the_sign_in(db, sms, monkeypatch):
    pending = waiting_wechat_login(db)
    sent, code = ask(db, sms)

    def broken_link(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("lock timeout")

    with monkeypatch.context() as patched:
        patched.setattr(wechat_login, "bind_after_verification", broken_link)
        with pytest.raises(RuntimeError):
            sign_in(db, sent, code, wechat_pending=pending)
    assert code_row(db).used_at is None
    assert customer_sessions_of(db) == []
    assert wechat_login.has_pending(db, pending), "the WeChat login still waits for a verified phone"


def test_a_linked_openid_signs_in_without_a_code(db, sms):
    pending = waiting_wechat_login(db)
    sent, code = ask(db, sms)
    first = sign_in(db, sent, code, wechat_pending=pending).session_token
    state = wechat_login.start_login(db, "/orders/next")
    accepted = wechat_login.use_state(db, state=state, browser_state=state)
    outcome = shopper_sign_in.sign_in_with_wechat(db, accepted.login_id, OPENID, client_ip="198.51.100.4",
                                                  user_agent="WeChat", replaces=first)
    assert outcome.pending is None
    [row] = customer_sessions_of(db)
    assert (row.phone, row.client_ip, row.user_agent) == (ALICE, "198.51.100.4", "WeChat")
    assert row.token_hash != customer_sessions._digest(first)
