"""Concurrent writers on SQLite queue up instead of failing with "database is locked"."""

import sqlite3
import threading

import pytest
from sqlalchemy import text

from core.db import Database
from core.migrate import upgrade
from core.services.orders import lifecycle as order_service
from tests.factories import make_order


@pytest.fixture
def sqlite_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'concurrency.db'}"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def test_plain_begin_read_then_write_fails_under_a_concurrent_writer(tmp_path):
    """Why BEGIN IMMEDIATE: with a deferred BEGIN, a reader that later writes
    cannot upgrade its lock while another connection holds the write lock, and
    SQLite refuses at once (no busy wait can help: it would deadlock)."""
    path = tmp_path / "plain.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE counter (n INTEGER)")
    setup.execute("INSERT INTO counter VALUES (0)")
    setup.close()

    reader = sqlite3.connect(path, isolation_level=None, timeout=5)
    writer = sqlite3.connect(path, isolation_level=None, timeout=5)
    reader.execute("BEGIN")
    reader.execute("SELECT n FROM counter").fetchone()
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE counter SET n = n + 1")
    writer.execute("COMMIT")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        reader.execute("UPDATE counter SET n = n + 1")
    reader.close()
    writer.close()


def test_write_transactions_begin_immediate(sqlite_db):
    seen = []
    with sqlite_db.write() as session:
        seen.append(session.connection().exec_driver_sql("SELECT 1").scalar())
        # Inside BEGIN IMMEDIATE this connection already holds the write lock:
        # another connection cannot start a write transaction now.
        other = sqlite3.connect(sqlite_db.engine.url.database, isolation_level=None, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    assert seen == [1]


def test_many_threads_writing_at_once_all_succeed(sqlite_db):
    orders = [make_order(sqlite_db, paid=True) for _ in range(8)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for round_ in range(5):
                with sqlite_db.write() as session:
                    # read-then-write in one transaction: the pattern that breaks under plain BEGIN
                    order = order_service.lock_order(session, orders[i % 8].ref)
                    order_service.record(session, order, "note", actor=f"t{i}", via="admin",
                                         detail={"round": round_})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite_db.read() as session:
        notes = session.connection().execute(text("SELECT count(*) FROM order_history WHERE kind = 'note'")).scalar()
    assert notes == 16 * 5


def test_wal_and_busy_timeout_are_set(sqlite_db):
    with sqlite_db.read() as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
