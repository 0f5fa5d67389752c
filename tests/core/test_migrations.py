"""The migrations are the only way the schema is made; they must equal the models."""

import json
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, inspect, select, text
from sqlmodel import SQLModel

import core.models  # noqa: F401
from core.db import make_engine
from core.migrate import alembic_config, pending_revisions, upgrade
from core.services.triage.rules import DEFAULT_RULES
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


def test_default_triage_rules_are_seeded(empty_url):
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT code, tag, queue, enabled, params FROM triage_rule")).all()
    finally:
        engine.dispose()
    assert {code: (tag, queue, bool(enabled), json.loads(params)) for code, tag, queue, enabled, params in rows} == {
        code: (str(tag), str(queue), True, params) for code, tag, queue, params in DEFAULT_RULES}


def test_orders_from_before_triage_get_an_empty_customs_declaration(empty_url):
    upgrade(empty_url, "6d907e847ec5")
    engine = make_engine(empty_url)
    try:
        now = datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None if engine.dialect.name == "sqlite" else UTC)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO customer (phone, name, created_at) VALUES ('+8613800138000', '', :now)"),
                         {"now": now})
            orders = Table("orders", MetaData(), autoload_with=conn)
            conn.execute(orders.insert().values(
                ref="OD0000000001", channel="taobao", channel_order_no="1", customer_id=1, status="paid",
                currency="CNY", items_total_minor=100, shipping_minor=0, discount_minor=0, total_minor=100,
                created_at=now, updated_at=now, is_priority=False, link_version=0, ship_recipient="张三",
                ship_phone="+8613800138000", ship_province="浙江省", ship_city="杭州市", ship_district="西湖区",
                ship_street="文三路 100 号", ship_postal_code=""))
        upgrade(empty_url)
        with engine.connect() as conn:
            orders = Table("orders", MetaData(), autoload_with=conn)
            assert conn.execute(select(orders.c.customs_declaration_no)).scalar_one() == ""
    finally:
        engine.dispose()
