"""Engine and transaction scopes.

Services open their own transactions with `db.write()` or `db.read()`.
On SQLite a write transaction starts with BEGIN IMMEDIATE: a read-then-write
transaction under plain (deferred) BEGIN cannot upgrade its lock while another
connection writes and fails at once with "database is locked", whatever the
busy timeout. Taking the write lock up front makes writers queue instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections kept open per process. The web app runs at most this many request threads
# (app.py), so a request never opens a connection of its own: beyond the pool, SQLAlchemy
# opens an overflow connection per checkout and closes it after, which on PostgreSQL
# means a new server process per request.
POOL_SIZE = 16


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would
        # otherwise issue a deferred BEGIN lazily before the first write).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # noqa: ANN001
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=POOL_SIZE,
            max_overflow=16,
            hide_parameters=True,
        )
        _prepare_sqlite(engine)
        return engine
    # hide_parameters: a refused INSERT's error (logged with its traceback) would otherwise carry the
    # customer's name, phone and street.
    return create_engine(url, echo=echo, pool_size=POOL_SIZE, max_overflow=20, pool_pre_ping=True,
                         hide_parameters=True)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        )

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that will write: committed on success, rolled back on error."""
        with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work; objects stay usable after it closes."""
        # Closing (not rolling back) keeps loaded attributes readable after the block.
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


_databases: dict[str, Database] = {}


def get_database(url: str | None = None) -> Database:
    """One Database (engine and pool) per URL in a process."""
    if url is None:
        from core.config import get_settings

        url = get_settings().database_url
    if url not in _databases:
        _databases[url] = Database(url)
    return _databases[url]


def lock_key(session, key: str) -> None:  # noqa: ANN001 (a Session)
    """Serialise writers on a name until the transaction ends: a PostgreSQL advisory lock.
    On SQLite, BEGIN IMMEDIATE already serialises every writer, so nothing is needed."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), params={"key": key})
