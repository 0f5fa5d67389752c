"""The test cast and the databases.

Every test that asks for `db` runs on SQLite, and again on PostgreSQL when
TEST_DATABASE_URL is set (CI sets it). Each backend gets a fresh database,
migrated once with Alembic; tables are emptied before every test.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

_VAR = Path(tempfile.mkdtemp(prefix="orderdesk-test-"))
os.environ.update(
    {
        "ORDERDESK_ENV": "dev",
        "ORDERDESK_VAR_DIR": str(_VAR),
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "ORDERDESK_TIMEZONE": "Asia/Shanghai",
        "DATABASE_URL": f"sqlite:///{_VAR / 'default.db'}",
    }
)
os.environ.pop("ORDERDESK_DEFAULT_LOCALE", None)

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from core.config import get_settings  # noqa: E402
from core.db import Database  # noqa: E402
from core.migrate import upgrade  # noqa: E402

get_settings.cache_clear()

BACKENDS = ["sqlite", "postgresql"]


def _postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    from core.db_url import normalize_database_url

    return normalize_database_url(url)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = _postgres_admin_url()
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    return url


def create_postgres_database(admin_url: str, name: str) -> str:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def fresh_database_url(backend: str, tmp_dir: Path) -> tuple[str, callable]:
    """A new empty database of the backend; returns its URL and a cleanup."""
    if backend == "sqlite":
        path = tmp_dir / f"{uuid.uuid4().hex}.db"
        return f"sqlite:///{path}", lambda: None
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    name = f"orderdesk_test_{uuid.uuid4().hex[:12]}"
    return create_postgres_database(admin_url, name), lambda: drop_postgres_database(admin_url, name)


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_url(request, tmp_path_factory) -> Iterator[str]:
    url, cleanup = fresh_database_url(request.param, tmp_path_factory.mktemp("db"))
    upgrade(url)
    yield url
    cleanup()


@pytest.fixture(scope="session")
def _databases() -> Iterator[dict[str, Database]]:
    cache: dict[str, Database] = {}
    yield cache
    for database in cache.values():
        database.dispose()


@pytest.fixture
def db(migrated_url: str, _databases: dict[str, Database]) -> Database:
    database = _databases.setdefault(migrated_url, Database(migrated_url))
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with database.engine.begin() as conn:
        if database.is_sqlite:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
        else:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    return database


@pytest.fixture
def app(db: Database):
    from app import create_app

    return create_app(get_settings(), db)


@pytest.fixture
def client(app):
    from litestar.testing import TestClient

    with TestClient(app=app, base_url="http://127.0.0.1") as test_client:
        yield test_client
