"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, Text
from sqlalchemy.types import TypeDecorator

# Money in minor units: 64-bit on PostgreSQL (a 32-bit column ends at ¥21,474,836.47). SQLite keeps
# every INTEGER in up to 8 bytes already, so its declared type stays INTEGER.
MINOR_UNITS = BigInteger().with_variant(Integer(), "sqlite")
# The largest amount accepted anywhere (validation refuses more): ¥10,000,000,000.00, far inside
# 64 bits, so a sum of lines or a quantity times a price cannot overflow either.
MAX_MINOR_UNITS = 1_000_000_000_000


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no zone, so values are
    normalised to UTC on the way in and marked UTC on the way out. Naive
    datetimes are refused: a time without a zone is a bug waiting to happen.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store timezone-aware times only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class SecretText(TypeDecorator):
    """Text encrypted at rest with a key derived from SECRET_KEY (Fernet: AES with an HMAC),
    for short-lived credentials the database must hold, such as WeChat's API access token:
    a copy of the database alone cannot use them. A value that does not decrypt (SECRET_KEY
    changed, or written before encryption) reads as empty, which makes the owner fetch anew."""

    impl = Text
    cache_ok = True

    @staticmethod
    def _fernet():  # noqa: ANN205
        import base64
        import hashlib
        import hmac

        from cryptography.fernet import Fernet

        from core.config import get_settings

        key = hmac.new(get_settings().secret_key.encode(), b"orderdesk secret column", hashlib.sha256).digest()
        return Fernet(base64.urlsafe_b64encode(key))

    def process_bind_param(self, value: str | None, dialect) -> str | None:  # noqa: ANN001
        if not value:
            return value
        return self._fernet().encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect) -> str | None:  # noqa: ANN001
        if not value:
            return value
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            return ""
