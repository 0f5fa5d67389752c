"""API keys of the push API and the request signature.

Where the signing secret lives: nowhere. A key's secret is derived on demand as
HMAC-SHA256(SECRET_KEY, "orderdesk api key v1\\n" + key id). The database holds
only the key id, its scopes and SHA-256 of the secret, so a copy of the database
alone (a backup, a read-only leak) cannot sign a request. The price: whoever has
SECRET_KEY can recompute every secret (they can already forge staff sessions),
and changing SECRET_KEY invalidates every API key at once (verification says so:
the stored hash no longer matches the derived secret). Revocation is a row flag.

Signature: hex(HMAC-SHA256(secret, timestamp + "\\n" + METHOD + "\\n" + path + "\\n" + raw body)),
path as sent including any query string, timestamp in unix seconds within 5 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select

from core.db import Database
from core.errors import InvalidInput, NotFound
from core.i18n import N_
from core.models import ApiIntegration, ApiKey, ApiRateWindow, utcnow
from core.services.actors import Actor
from core.services.audit import trail as audit
from core.services.identity.permissions import Permission

SCOPES = ("orders:write", "shipments:write", "stock:write")
MAX_CLOCK_SKEW = timedelta(minutes=5)
# last_used_at is a write: at most one per key per minute.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def signing_secret(secret_key: str, key_id: str) -> str:
    digest = hmac.new(secret_key.encode(), f"orderdesk api key v1\n{key_id}".encode(), hashlib.sha256).digest()
    return "ods_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """The signature a client sends in X-Orderdesk-Signature."""
    message = f"{timestamp}\n{method.upper()}\n{path}\n".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CreatedKey:
    key_id: str
    secret: str  # shown once, never stored
    integration: str
    scopes: list[str]


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    integration: str
    scopes: list[str]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    rate_limit_per_minute: int


def parse_scopes(raw: str | list[str]) -> list[str]:
    items = raw.replace(",", " ").split() if isinstance(raw, str) else [s.strip() for s in raw if s.strip()]
    if not items:
        raise InvalidInput("scopes", N_("Choose at least one scope."))
    for scope in items:
        if scope not in SCOPES:
            raise InvalidInput("scopes", N_("Unknown scope %(scope)s."), scope=scope)
    return sorted(set(items), key=SCOPES.index)


def _rate_limit(raw: int | str) -> int:
    """Requests a minute, as typed in the admin's form or given to the CLI."""
    if isinstance(raw, str):
        if not raw.strip().isdigit():
            raise InvalidInput("rate_limit_per_minute", N_("Give a limit between 1 and 100000 requests a minute."))
        raw = int(raw.strip())
    return raw


def create_key(db: Database, actor: Actor, secret_key: str, *, name: str, scopes: str | list[str],
               rate_limit_per_minute: int | str = 600) -> CreatedKey:
    """A new key for the integration NAME (created on first use; a second key is a rotation).
    A staff member's creation is audited in the same transaction."""
    actor.require(Permission.MANAGE_API_KEYS)
    rate_limit = _rate_limit(rate_limit_per_minute)
    name = " ".join(name.split())
    if not name or len(name) > 64:
        raise InvalidInput("name", N_("Give the integration a name of at most 64 characters."))
    chosen = parse_scopes(scopes)
    if not 1 <= rate_limit <= 100_000:
        raise InvalidInput("rate_limit_per_minute", N_("Give a limit between 1 and 100000 requests a minute."))
    key_id = "odk_" + secrets.token_hex(10)
    secret = signing_secret(secret_key, key_id)
    with db.write() as session:
        integration = session.exec(select(ApiIntegration).where(ApiIntegration.name == name)).first()
        if integration is None:
            integration = ApiIntegration(name=name, created_by=actor.name)
            session.add(integration)
            session.flush()
        session.add(ApiKey(key_id=key_id, integration_id=integration.id, scopes=" ".join(chosen),
                           secret_hash=_secret_hash(secret), created_by=actor.name,
                           rate_limit_per_minute=rate_limit))
        if actor.is_staff:
            audit.append(session, actor, "api_key_create", detail={
                "key_id": key_id, "integration": name, "scopes": chosen, "rate_limit_per_minute": rate_limit})
    return CreatedKey(key_id=key_id, secret=secret, integration=name, scopes=chosen)


def list_keys(db: Database) -> list[KeyRow]:
    with db.read() as session:
        rows = session.exec(
            select(ApiKey, ApiIntegration.name).join(ApiIntegration, ApiIntegration.id == ApiKey.integration_id)
            .order_by(ApiKey.revoked_at.is_not(None), ApiIntegration.name, ApiKey.created_at)
        ).all()
    return [KeyRow(key_id=key.key_id, integration=name, scopes=key.scope_list, created_at=key.created_at,
                   created_by=key.created_by, last_used_at=key.last_used_at, revoked_at=key.revoked_at,
                   rate_limit_per_minute=key.rate_limit_per_minute)
            for key, name in rows]


def revoke_key(db: Database, actor: Actor, key_id: str) -> KeyRow:
    """Revoke a key at once (a key already revoked stays as it was); a staff member's revocation is audited."""
    actor.require(Permission.MANAGE_API_KEYS)
    with db.write() as session:
        key = session.exec(select(ApiKey).where(ApiKey.key_id == key_id.strip()).with_for_update()).first()
        if key is None:
            raise NotFound(N_("No such API key."))
        if key.revoked_at is None:
            key.revoked_at, key.revoked_by = utcnow(), actor.name
            session.add(key)
        name = session.get(ApiIntegration, key.integration_id).name
        if actor.is_staff:
            audit.append(session, actor, "api_key_revoke", detail={"key_id": key.key_id, "integration": name})
    return KeyRow(key_id=key.key_id, integration=name, scopes=key.scope_list, created_at=key.created_at,
                  created_by=key.created_by, last_used_at=key.last_used_at, revoked_at=key.revoked_at,
                  rate_limit_per_minute=key.rate_limit_per_minute)


@dataclass(frozen=True)
class ApiCaller:
    key_id: str
    integration_id: int
    integration: str
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        return f"api:{self.integration}"[:64]


class AuthFailed(Exception):
    """The request is not from a valid key; `code` and the message go to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def authenticate(db: Database, secret_key: str, *, key_id: str | None, timestamp: str | None,
                 signature: str | None, method: str, path: str, body: bytes,
                 now: datetime | None = None) -> ApiCaller:
    if not key_id or not timestamp or not signature:
        raise AuthFailed("missing_signature", "X-Orderdesk-Key, X-Orderdesk-Timestamp and X-Orderdesk-Signature "
                                              "are required")
    if len(key_id) > 32:
        raise AuthFailed("unknown_key", "unknown API key")
    now = now or utcnow()
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise AuthFailed("bad_timestamp", "X-Orderdesk-Timestamp must be unix seconds") from None
    if abs(now.timestamp() - sent_at) > MAX_CLOCK_SKEW.total_seconds():
        raise AuthFailed("stale_timestamp", "X-Orderdesk-Timestamp is more than 5 minutes from the server's clock "
                                            f"({int(now.timestamp())}); a replayed or delayed request is refused")
    secret = signing_secret(secret_key, key_id)
    # Compare the signature before looking at the key's state, in constant time.
    signature_ok = hmac.compare_digest(sign(secret, timestamp, method, path, body), signature.strip().lower())
    with db.read() as session:
        found = session.exec(
            select(ApiKey, ApiIntegration.name).join(ApiIntegration, ApiIntegration.id == ApiKey.integration_id)
            .where(ApiKey.key_id == key_id)
        ).first()
    if found is None:
        raise AuthFailed("unknown_key", "unknown API key")
    key, name = found
    if not hmac.compare_digest(key.secret_hash, _secret_hash(secret)):
        raise AuthFailed("key_invalidated", "this key was made under another SECRET_KEY; create a new key")
    if not signature_ok:
        raise AuthFailed("bad_signature", "X-Orderdesk-Signature does not match the request")
    if key.revoked_at is not None:
        raise AuthFailed("revoked_key", "this API key was revoked")
    _count_request(db, key, now)
    return ApiCaller(key_id=key.key_id, integration_id=key.integration_id, integration=name,
                     scopes=frozenset(key.scope_list))


class RateLimited(AuthFailed):
    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__("rate_limited", f"more than {limit} requests in this minute for this key; "
                                         f"retry in {retry_after} s")
        self.retry_after = retry_after


def _count_request(db: Database, key: ApiKey, now: datetime) -> None:
    """One more request in this key's current minute (an upsert: processes and servers share the count)."""
    window = now.replace(second=0, microsecond=0)
    with db.write() as session:
        dialect = session.get_bind().dialect.name
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        statement = insert(ApiRateWindow).values(key_pk=key.id, window_start=window, count=1)
        statement = statement.on_conflict_do_update(
            index_elements=["key_pk", "window_start"], set_={"count": ApiRateWindow.count + 1}
        ).returning(ApiRateWindow.count)
        count = session.execute(statement).scalar_one()
        if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
            stored = session.get(ApiKey, key.id)
            stored.last_used_at = now
            session.add(stored)
    if count > key.rate_limit_per_minute:
        raise RateLimited(key.rate_limit_per_minute, 60 - now.second)


def purge_rate_windows(db: Database, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(hours=1)
    with db.write() as session:
        result = session.execute(delete(ApiRateWindow).where(ApiRateWindow.window_start < cutoff))
    return result.rowcount or 0
