"""The migrations are the only way the schema is made; they must equal the models."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import core.models  # noqa: F401
from core.db import make_engine
from core.migrate import alembic_config, pending_revisions, upgrade
from tests.conftest import BACKENDS, fresh_database_url


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    url, cleanup = fresh_database_url(request.param, tmp_path)
    yield url
    cleanup()


def _diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def test_migrations_produce_exactly_the_models_schema(empty_url):
    assert pending_revisions(empty_url)
    upgrade(empty_url)
    assert not pending_revisions(empty_url)
    assert _diff(empty_url) == []


def test_downgrade_to_base_and_up_again(empty_url):
    upgrade(empty_url)
    command.downgrade(alembic_config(empty_url), "base")
    engine = make_engine(empty_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(empty_url)
    assert _diff(empty_url) == []


def test_lookup_indexes_exist(empty_url):
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        inspector = inspect(engine)
        indexed = {
            table: {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
            | {tuple(uc["column_names"]) for uc in inspector.get_unique_constraints(table)}
            for table in ("customer", "orders", "shipment", "tracking_event")
        }
    finally:
        engine.dispose()
    assert ("phone",) in indexed["customer"]
    assert ("channel", "channel_order_no") in indexed["orders"]
    assert ("customer_id", "created_at") in indexed["orders"]
    assert ("status", "created_at") in indexed["orders"]
    assert ("tracking_no",) in indexed["shipment"]
    assert ("shipment_id", "occurred_at") in indexed["tracking_event"]
