"""A shopper signs in: with the code texted to their phone, or with a WeChat account linked to it.

Each sign-in is one transaction: the code is used (or the openid looked up), the session this browser
held before ends, the new one starts, and a WeChat account waiting in this browser is linked to the
verified phone; or none of it happens. Texting the code (`phone_codes.request_code`) and asking WeChat
for the openid happen outside it: a slow provider never holds the write lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.db import Database
from core.models import utcnow
from core.services.actors import Actor
from core.services.identity import customer_sessions, phone_codes, wechat_login
from core.services.identity.wechat_login import BindResult


@dataclass(frozen=True)
class SignedIn:
    phone: str
    session_token: str
    # What became of a WeChat account waiting in this browser (NONE when there was none).
    wechat_link: BindResult = BindResult.NONE


def sign_in_with_code(db: Database, actor: Actor, *, challenge: str, code: str, secret: str,
                      user_agent: str = "", replaces: str | None = None, wechat_pending: str | None = None,
                      now: datetime | None = None) -> SignedIn:
    """`actor` is the shopper the challenge was issued for (`Actor.customer(phone, client_ip=...)`);
    `replaces` the session token this browser holds, `wechat_pending` its waiting WeChat login.

    Raises CodeRejected or RateLimited; a wrong code is counted even so."""
    now = now or utcnow()
    code = phone_codes.typed_code(code)
    with db.write() as session:
        checked = phone_codes.use_code(session, phone=actor.customer_phone or "", challenge=challenge, code=code,
                                       secret=secret, now=now)
        if checked.rejection is None:
            # A fresh session identifier at every sign-in; whatever session came before ends here.
            customer_sessions.close_session(session, replaces)
            token = customer_sessions.open_session(session, phone=checked.phone, client_ip=actor.client_ip,
                                                   user_agent=user_agent, now=now)
            link = wechat_login.bind_after_verification(session, wechat_pending, checked.phone,
                                                        client_ip=actor.client_ip, now=now)
    # Raised after the commit: the wrong try must stay counted.
    if checked.rejection is not None:
        raise checked.rejection
    return SignedIn(phone=checked.phone, session_token=token, wechat_link=link)


@dataclass(frozen=True)
class WechatSignIn:
    """Either `session_token` (the openid is linked: signed in) or `pending` (a token for the browser
    to keep until it verifies a phone by SMS code)."""

    session_token: str | None = None
    pending: str | None = None


def sign_in_with_wechat(db: Database, login_id: int, openid: str, *, client_ip: str = "", user_agent: str = "",
                        replaces: str | None = None, now: datetime | None = None) -> WechatSignIn:
    """After WeChat vouched for `openid` on the login `use_state` accepted. Who signs in is what this
    finds out, so it takes the browser's address rather than an Actor."""
    now = now or utcnow()
    with db.write() as session:
        outcome = wechat_login.finish_login(session, login_id, openid, now=now)
        if outcome.phone is None:
            return WechatSignIn(pending=outcome.pending)
        customer_sessions.close_session(session, replaces)
        token = customer_sessions.open_session(session, phone=outcome.phone, client_ip=client_ip,
                                               user_agent=user_agent, now=now)
        return WechatSignIn(session_token=token)
