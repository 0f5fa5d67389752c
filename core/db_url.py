"""Database URLs as SQLAlchemy wants them (no SQLAlchemy import: settings are read before it loads)."""

from __future__ import annotations


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
