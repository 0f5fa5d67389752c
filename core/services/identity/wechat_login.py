"""Signing in with WeChat (OAuth2 snsapi_base) and the openid bindings.

The trip: a page that needs sign-in, opened inside WeChat, starts a login
(`start_login`: a random state, kept hashed with the page to return to; the
browser keeps it in a cookie) and sends the browser to WeChat, which sends it
back with a code and the state. `use_state` accepts the state once, only from
the browser it was given to and only for ten minutes. The code is exchanged
for the openid (core.wechat.client, outside any transaction), then
`shopper_sign_in.sign_in_with_wechat` runs `finish_login`: an openid linked to
a customer signs in; any other waits, tied to this browser by a second random
token, for the SMS verification, in whose transaction
(`shopper_sign_in.sign_in_with_code`) `bind_after_verification` links it to
the verified phone. Nothing is ever linked without a verified code, and
an openid linked to another phone stays where it is.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, delete, select

from core.db import Database, lock_key
from core.errors import DomainError, NotFound
from core.i18n import N_
from core.models import Customer, WechatBinding, WechatBindingEvent, WechatLogin, utcnow
from core.services.identity.customers import get_or_create_customer

STATE_TTL = timedelta(minutes=10)
# Long enough to wait for a text message and type the code (which itself lives 5 minutes).
PENDING_TTL = timedelta(minutes=15)
PURGE_AFTER = timedelta(days=1)


class LoginRefused(DomainError):
    """The callback is not the answer to a login this browser started (forged, replayed, expired)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _tail(openid: str) -> str:
    return openid[-6:]


def start_login(db: Database, next_path: str, *, now: datetime | None = None) -> str:
    """A new state for the authorisation trip; the caller gives it to the browser (cookie) and WeChat."""
    now = now or utcnow()
    state = secrets.token_urlsafe(24)
    with db.write() as session:
        # Trips nobody finished: kept a day for the record, then gone.
        session.exec(delete(WechatLogin).where(WechatLogin.expires_at < now - PURGE_AFTER))
        session.add(WechatLogin(state_hash=_digest(state), next_path=next_path[:500], created_at=now,
                                expires_at=now + STATE_TTL))
    return state


@dataclass(frozen=True)
class AcceptedState:
    login_id: int
    next_path: str


def use_state(db: Database, *, state: str | None, browser_state: str | None,
              now: datetime | None = None) -> AcceptedState:
    """Accept the state WeChat handed back, once, from the browser that started the trip."""
    now = now or utcnow()
    refused = LoginRefused(N_("This sign-in link is not valid, has expired or was already used."))
    if not state or not browser_state or not hmac.compare_digest(state.encode(), browser_state.encode()):
        raise refused
    with db.write() as session:
        login = session.exec(
            select(WechatLogin).where(WechatLogin.state_hash == _digest(state)).with_for_update()
        ).first()
        if login is None or login.state_used_at is not None or now >= login.expires_at:
            raise refused
        login.state_used_at = now
        session.add(login)
        return AcceptedState(login_id=login.id, next_path=login.next_path)


@dataclass(frozen=True)
class LoginOutcome:
    """Either `phone` (the openid is linked: sign in) or `pending` (a token for the browser
    to keep until it verifies a phone by SMS)."""

    next_path: str
    phone: str | None = None
    pending: str | None = None


def finish_login(session: Session, login_id: int, openid: str, *, now: datetime) -> LoginOutcome:
    """What the openid WeChat vouched for leads to, in the caller's transaction."""
    login = session.get(WechatLogin, login_id)
    binding = session.exec(select(WechatBinding).where(WechatBinding.openid == openid)).first()
    if binding is not None:
        binding.last_used_at = now
        session.add(binding)
        customer = session.get(Customer, binding.customer_id)
        return LoginOutcome(next_path=login.next_path, phone=customer.phone)
    pending = secrets.token_urlsafe(32)
    login.openid = openid
    login.pending_hash = _digest(pending)
    login.pending_until = now + PENDING_TTL
    session.add(login)
    return LoginOutcome(next_path=login.next_path, pending=pending)


def _pending_login(session: Session, pending: str | None, now: datetime, *, lock: bool = False) -> WechatLogin | None:
    if not pending:
        return None
    query = select(WechatLogin).where(WechatLogin.pending_hash == _digest(pending))
    login = session.exec(query.with_for_update() if lock else query).first()
    if login is None or login.pending_used_at is not None or login.pending_until is None or now >= login.pending_until:
        return None
    return login


def has_pending(db: Database, pending: str | None, *, now: datetime | None = None) -> bool:
    """This browser came back from WeChat with an openid not linked yet (and not too long ago)."""
    if not pending:
        return False
    with db.read() as session:
        return _pending_login(session, pending, now or utcnow()) is not None


class BindResult(StrEnum):
    LINKED = "linked"
    ALREADY = "already"  # linked to this phone before
    TAKEN = "taken"  # linked to another phone: left as it is
    NONE = "none"  # nothing pending (expired, used, or never)


def _lock_openid(session: Session, openid: str) -> None:
    """Two browsers verifying two phones for one openid at once: one links, the other is told.
    SQLite's BEGIN IMMEDIATE already serialises the writers."""
    lock_key(session, "wechat-openid:" + openid)


def bind_after_verification(session: Session, pending: str | None, phone: str, *, client_ip: str = "",
                            now: datetime) -> BindResult:
    """Link the openid waiting in the browser holding `pending` to `phone`, in the caller's transaction.
    Only for a `phone` this same transaction has just verified by SMS code."""
    if not pending:
        return BindResult.NONE
    login = _pending_login(session, pending, now, lock=True)
    if login is None:
        return BindResult.NONE
    login.pending_used_at = now
    session.add(login)
    openid = login.openid
    _lock_openid(session, openid)
    # A verified phone without orders yet gets its customer now: the link waits for its first order.
    customer = get_or_create_customer(session, phone)
    existing = session.exec(select(WechatBinding).where(WechatBinding.openid == openid)).first()
    if existing is not None:
        if existing.customer_id == customer.id:
            existing.last_used_at = now
            session.add(existing)
            return BindResult.ALREADY
        session.add(WechatBindingEvent(customer_id=customer.id, action="refused", openid_tail=_tail(openid),
                                       at=now, client_ip=client_ip[:45]))
        return BindResult.TAKEN
    session.add(WechatBinding(openid=openid, customer_id=customer.id, created_at=now, last_used_at=now))
    session.add(WechatBindingEvent(customer_id=customer.id, action="linked", openid_tail=_tail(openid), at=now,
                                   client_ip=client_ip[:45]))
    return BindResult.LINKED


@dataclass(frozen=True)
class LinkView:
    bindings: list[WechatBinding]
    history: list[WechatBindingEvent]


def links_of(db: Database, phone: str) -> LinkView:
    with db.read() as session:
        customer = session.exec(select(Customer).where(Customer.phone == phone)).first()
        if customer is None:
            return LinkView([], [])
        bindings = list(session.exec(
            select(WechatBinding).where(WechatBinding.customer_id == customer.id).order_by(WechatBinding.id)).all())
        history = list(session.exec(
            select(WechatBindingEvent).where(WechatBindingEvent.customer_id == customer.id)
            .order_by(WechatBindingEvent.at.desc(), WechatBindingEvent.id.desc()).limit(20)).all())
    return LinkView(bindings, history)


def unlink(db: Database, phone: str, binding_id: int, *, client_ip: str = "", now: datetime | None = None) -> None:
    """Remove one of the customer's own links; anyone else's is a NotFound."""
    now = now or utcnow()
    with db.write() as session:
        customer = session.exec(select(Customer).where(Customer.phone == phone)).first()
        binding = session.get(WechatBinding, binding_id)
        if customer is None or binding is None or binding.customer_id != customer.id:
            raise NotFound(N_("This WeChat link does not exist."))
        session.add(WechatBindingEvent(customer_id=customer.id, action="unlinked", openid_tail=_tail(binding.openid),
                                       at=now, client_ip=client_ip[:45]))
        session.delete(binding)


def openid_of(session: Session, customer_id: int) -> str | None:
    """Where the customer's WeChat messages go: the link used most recently."""
    return session.exec(
        select(WechatBinding.openid).where(WechatBinding.customer_id == customer_id)
        .order_by(WechatBinding.last_used_at.desc().nulls_last(), WechatBinding.id.desc()).limit(1)
    ).first()


def is_linked(session: Session, openid: str) -> bool:
    return session.exec(select(WechatBinding.id).where(WechatBinding.openid == openid)).first() is not None
