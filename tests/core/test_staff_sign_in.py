"""Staff sign-in as one use case: the password check, the failure count and lockout, the session and
the audit entry commit together or not at all. Times are passed with `now=`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.errors import NotFound
from core.models import AuditEntry, Staff, StaffSession
from core.services.actors import Actor
from core.services.audit import log as audit_log
from core.services.identity import staff as staff_service
from core.services.identity.staff import LoginFailed

PASSWORD = "correct horse battery staple"
EMAIL = "agent@shop.test"
SYSTEM = Actor.system(via="test")
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
def agent(db) -> Staff:
    return staff_service.create_staff(db, SYSTEM, email=EMAIL, role="support", password=PASSWORD)


def attempt(db, password: str, *, email: str = EMAIL, at: datetime = T0, replaces: str | None = None):  # noqa: ANN001
    return staff_service.sign_in(db, email=email, password=password, client_ip="203.0.113.9", replaces=replaces,
                                 now=at)


def account(db) -> Staff:  # noqa: ANN001
    with db.read() as session:
        return session.exec(select(Staff).where(Staff.email == EMAIL)).one()


def sessions_of(db, staff: Staff) -> list[StaffSession]:  # noqa: ANN001
    with db.read() as session:
        return list(session.exec(select(StaffSession).where(StaffSession.staff_id == staff.id)).all())


def audit_entries(db) -> list[AuditEntry]:  # noqa: ANN001
    with db.read() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all())


def test_right_password_opens_a_session_and_audits_the_login(db, agent):
    signed_in = attempt(db, PASSWORD)
    assert signed_in.staff.id == agent.id
    assert staff_service.session_staff(db, signed_in.session_token).id == agent.id
    [entry] = audit_entries(db)
    assert (entry.action, entry.actor, entry.staff_id, entry.client_ip) == ("login", EMAIL, agent.id, "203.0.113.9")
    assert json.loads(entry.detail) == {}
    assert audit_log.verify(db).intact


def test_wrong_password_is_counted_and_audited_with_the_email_typed(db, agent):
    with pytest.raises(LoginFailed, match="Wrong e-mail or password"):
        attempt(db, "not the password", email="  Agent@Shop.test ")
    assert account(db).failed_logins == 1
    assert sessions_of(db, agent) == []
    [entry] = audit_entries(db)
    assert (entry.action, entry.actor, entry.staff_id, entry.client_ip) == ("login_failed", "system", None,
                                                                             "203.0.113.9")
    assert json.loads(entry.detail) == {"email": "  Agent@Shop.test "}


def test_unknown_and_deactivated_accounts_fail_like_a_wrong_password(db, agent):
    with db.write() as session:
        session.get(Staff, agent.id).active = False
    for email in ["nobody@shop.test", EMAIL]:
        with pytest.raises(LoginFailed, match="Wrong e-mail or password"):
            attempt(db, PASSWORD, email=email)
    assert account(db).failed_logins == 0
    assert [(e.action, json.loads(e.detail)) for e in audit_entries(db)] == [
        ("login_failed", {"email": "nobody@shop.test"}), ("login_failed", {"email": EMAIL})]


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(db, agent):
    for n in range(5):
        with pytest.raises(LoginFailed, match="Wrong e-mail or password"):
            attempt(db, "not the password", at=T0 + timedelta(seconds=n))
    locked = account(db)
    assert locked.locked_until == T0 + timedelta(seconds=4) + staff_service.LOCKOUT
    assert locked.failed_logins == 0
    with pytest.raises(LoginFailed, match="Try again in 15 minutes"):
        attempt(db, PASSWORD, at=T0 + timedelta(seconds=10))
    with pytest.raises(LoginFailed, match="Try again in 1 minutes"):
        attempt(db, PASSWORD, at=T0 + timedelta(minutes=14, seconds=30))
    assert sessions_of(db, agent) == []
    assert attempt(db, PASSWORD, at=T0 + timedelta(minutes=15, seconds=5)).staff.id == agent.id
    assert [e.action for e in audit_entries(db)] == ["login_failed"] * 7 + ["login"]


def test_a_right_password_resets_the_failure_count(db, agent):
    for n in range(3):
        with pytest.raises(LoginFailed):
            attempt(db, "not the password", at=T0 + timedelta(seconds=n))
    assert account(db).failed_logins == 3
    attempt(db, PASSWORD, at=T0 + timedelta(seconds=5))
    assert account(db).failed_logins == 0


def test_signing_in_ends_the_session_the_browser_held(db, agent):
    earlier = attempt(db, PASSWORD).session_token
    elsewhere = attempt(db, PASSWORD).session_token
    later = attempt(db, PASSWORD, replaces=earlier).session_token
    assert staff_service.session_staff(db, earlier) is None
    assert staff_service.session_staff(db, elsewhere) is not None
    assert staff_service.session_staff(db, later) is not None


def test_a_login_whose_audit_entry_fails_opens_no_session_and_keeps_the_failure_count(db, agent, monkeypatch):
    with pytest.raises(LoginFailed):
        attempt(db, "not the password")
    held = attempt(db, PASSWORD).session_token
    with pytest.raises(LoginFailed):
        attempt(db, "not the password", at=T0 + timedelta(seconds=1))
    entries_before = len(audit_entries(db))

    def broken_append(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr("core.services.audit.trail.append", broken_append)
    with pytest.raises(RuntimeError, match="audit log unavailable"):
        attempt(db, PASSWORD, at=T0 + timedelta(seconds=2), replaces=held)
    assert account(db).failed_logins == 1, "the failure count was not reset"
    assert [s.token_hash for s in sessions_of(db, agent)] == [staff_service._digest(held)], \
        "no new session, and the one the browser held was not ended"
    assert len(audit_entries(db)) == entries_before


def test_a_failed_login_whose_audit_entry_fails_is_not_counted_either(db, agent, monkeypatch):
    def broken_append(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr("core.services.audit.trail.append", broken_append)
    with pytest.raises(RuntimeError):
        attempt(db, "not the password")
    assert account(db).failed_logins == 0
    assert audit_entries(db) == []


def test_a_password_changed_while_the_old_one_was_checked_opens_nothing(db, agent, monkeypatch):
    """The hash is verified before the write transaction; the transaction sees the new hash and checks again."""
    check = staff_service._password_matches
    calls = []

    def reset_during_the_check(password_hash: str, password: str) -> bool:
        if not calls:
            staff_service.reset_password(db, SYSTEM, email=EMAIL, password="a brand new passphrase")
        calls.append(password)
        return check(password_hash, password)

    monkeypatch.setattr(staff_service, "_password_matches", reset_during_the_check)
    with pytest.raises(LoginFailed, match="Wrong e-mail or password"):
        attempt(db, PASSWORD)
    assert calls == [PASSWORD, PASSWORD]
    assert sessions_of(db, agent) == []
    assert account(db).failed_logins == 1


def test_password_reset_unlocks_and_ends_every_session(db, agent):
    token = attempt(db, PASSWORD).session_token
    for n in range(5):
        with pytest.raises(LoginFailed):
            attempt(db, "not the password", at=T0 + timedelta(seconds=n))
    staff_service.reset_password(db, Actor.system(via="cli"), email=EMAIL, password="a brand new passphrase")
    assert staff_service.session_staff(db, token) is None
    assert (account(db).failed_logins, account(db).locked_until) == (0, None)
    assert attempt(db, "a brand new passphrase", at=T0 + timedelta(seconds=10)).staff.id == agent.id


def test_only_who_manages_staff_creates_accounts(db, agent):
    support = Actor.staff_member(agent, via="admin")
    with pytest.raises(NotFound):
        staff_service.create_staff(db, support, email="new@shop.test", role="admin", password=PASSWORD)
    with pytest.raises(NotFound):
        staff_service.reset_password(db, support, email=EMAIL, password="a brand new passphrase")
    assert [s.email for s in staff_service.list_staff(db)] == [EMAIL]
