"""The official account's API access token, one for all processes.

WeChat hands out one valid token per account at a time: fetching a new one
from cgi-bin/token retires the old one a few minutes later. So every app
server and worker reads the token from one row in the database, and only one
of them fetches the next: the one that takes the row's short refresh lease
(under the row lock: BEGIN IMMEDIATE on SQLite, an advisory transaction lock on
PostgreSQL). The others keep using the current token while it still works, or
wait for the new one. The token is refreshed five minutes before it expires,
and at once when WeChat says it is invalid (errcode 40001/42001).
The HTTP call itself runs outside any transaction, so the database is never
held while WeChat is slow.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session

from core.db import Database, lock_key
from core.models import WechatAccessToken, utcnow
from core.wechat.client import TOKEN_ERRCODES, WechatApiError, WechatClient, WechatUnavailable

logger = logging.getLogger("orderdesk.wechat")

REFRESH_EARLY = timedelta(minutes=5)
REFRESH_LEASE = timedelta(seconds=30)
WAIT_STEP_SECONDS = 0.05


def _lock(session: Session, app_id: str) -> None:
    lock_key(session, "wechat-token:" + app_id)


class TokenStore:
    def __init__(self, db: Database, client: WechatClient, *, early: timedelta = REFRESH_EARLY,
                 lease: timedelta = REFRESH_LEASE, clock: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.db = db
        self.client = client
        self.app_id = client.app_id
        self.early = early
        self.lease = lease
        self.clock = clock
        self.sleep = sleep

    def _fresh(self, row: WechatAccessToken | None, now: datetime) -> bool:
        return bool(row and row.access_token and row.expires_at and row.expires_at - self.early > now)

    def _claim(self, now: datetime) -> tuple[str | None, datetime | None]:
        """(token to use, None) or (None, our lease) when this process is to fetch, or (None, None) to wait."""
        with self.db.write() as session:
            _lock(session, self.app_id)
            row = session.get(WechatAccessToken, self.app_id, populate_existing=True)
            if row is None:
                row = WechatAccessToken(app_id=self.app_id)
            if self._fresh(row, now):
                return row.access_token, None
            if row.refreshing_until is not None and row.refreshing_until > now:
                # Someone else is fetching; the current token serves until it really expires.
                if row.access_token and row.expires_at and row.expires_at > now:
                    return row.access_token, None
                return None, None
            row.refreshing_until = now + self.lease
            session.add(row)
            return None, row.refreshing_until

    def _store(self, lease: datetime, token: str | None, expires_in: int, now: datetime) -> None:
        with self.db.write() as session:
            _lock(session, self.app_id)
            row = session.get(WechatAccessToken, self.app_id, populate_existing=True)
            if token is not None:
                row.access_token, row.refreshed_at = token, now
                row.expires_at = now + timedelta(seconds=expires_in)
            if row.refreshing_until == lease:
                row.refreshing_until = None
            session.add(row)

    def current(self) -> str:
        """A working access token, fetched from WeChat only when the shared one is due."""
        with self.db.read() as session:
            row = session.get(WechatAccessToken, self.app_id)
            if self._fresh(row, self.clock()):
                return row.access_token
        give_up = time.monotonic() + self.lease.total_seconds() + 5
        while True:
            now = self.clock()
            token, lease = self._claim(now)
            if token is not None:
                return token
            if lease is not None:
                try:
                    fetched = self.client.fetch_access_token()
                except Exception:
                    self._store(lease, None, 0, now)
                    raise
                self._store(lease, fetched.token, fetched.expires_in, self.clock())
                logger.info("WeChat access token refreshed (valid %d s)", fetched.expires_in)
                return fetched.token
            if time.monotonic() > give_up:
                raise WechatUnavailable("another process has been fetching the access token for too long")
            self.sleep(WAIT_STEP_SECONDS)

    def invalidate(self, token: str) -> None:
        """WeChat refused `token`: the next `current` fetches a new one, unless another
        process already has."""
        with self.db.write() as session:
            _lock(session, self.app_id)
            row = session.get(WechatAccessToken, self.app_id, populate_existing=True)
            if row is not None and row.access_token == token:
                row.expires_at = self.clock()
                session.add(row)


class WechatSender:
    """Sends template messages with the shared token; one fresh token and one retry when
    WeChat says the token is invalid or expired. Other retries are the outbox's."""

    def __init__(self, db: Database, client: WechatClient, **token_options) -> None:  # noqa: ANN003
        self.client = client
        self.tokens = TokenStore(db, client, **token_options)

    def send(self, message: dict) -> str:
        token = self.tokens.current()
        try:
            return self.client.send_template(token, message)
        except WechatApiError as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
            logger.warning("WeChat refused the access token (errcode %s); fetching a new one", exc.errcode)
            self.tokens.invalidate(token)
        return self.client.send_template(self.tokens.current(), message)
