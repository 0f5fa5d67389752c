"""Working a tag as one use case: the scope check under the order's lock, the change and its audit
entry in one transaction, so an action whose audit entry cannot be written did not happen."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.errors import NotFound
from core.models import AuditEntry, OrderHistory, OrderTag
from core.services.actors import Actor
from core.services.audit import trail
from core.services.identity.staff import create_staff
from core.services.triage import queue as triage_queue
from tests.triage_factories import add_tag, add_warehouse, install_rules, paid_order

NOW = datetime.now(UTC).replace(microsecond=0)
H = timedelta(hours=1)

# Who creates the test cast's staff accounts (the command line, in real life).
SEEDER = Actor.system(via="test")


@pytest.fixture
def hz(db):
    install_rules(db)
    return add_warehouse(db)


@pytest.fixture
def tag(db, hz):
    order = paid_order(db, at=NOW - 2 * H, warehouse_id=hz.id)
    return add_tag(db, order, rule_code="address_no_district", tag="address_risk", queue="customer_service",
                   opened_at=NOW - H)


def staff_actor(db, role: str, warehouse_id: int | None = None) -> Actor:
    member = create_staff(db, SEEDER, email=f"{role}@example.com", role=role, password="correct horse battery",
                          warehouse_id=warehouse_id)
    return Actor.staff_member(member, client_ip="203.0.113.9")


ACTIONS = {
    "resolve": lambda db, actor, tag_id: triage_queue.resolve_tag(db, actor, tag_id, "已联系客户补全区县"),
    "assign": lambda db, actor, tag_id: triage_queue.assign_tag(db, actor, tag_id, actor.staff_id),
    "reply": lambda db, actor, tag_id: triage_queue.record_reply(db, actor, tag_id),
    "reveal": lambda db, actor, tag_id: triage_queue.reveal_tag(db, actor, tag_id),
}


def _state(db, tag_id: int) -> tuple:
    with db.read() as session:
        stored = session.get(OrderTag, tag_id)
        replies = session.exec(select(OrderHistory).where(OrderHistory.kind == "reply")).all()
        entries = session.exec(select(AuditEntry)).all()
    return (stored.resolved_at, stored.resolved_by, stored.resolution, stored.owner_id), len(replies), len(entries)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_triage_action_whose_audit_entry_fails_does_not_happen(db, tag, monkeypatch, action):
    actor = staff_actor(db, "supervisor")
    before = _state(db, tag.id)

    def refuse(*args, **kwargs):
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(trail, "append", refuse)
    with pytest.raises(RuntimeError):
        ACTIONS[action](db, actor, tag.id)

    assert _state(db, tag.id) == before
    assert before == ((None, None, None, None), 0, 0)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_writes_its_audit_entry_with_the_change(db, tag, action):
    actor = staff_actor(db, "supervisor")
    ACTIONS[action](db, actor, tag.id)
    with db.read() as session:
        [entry] = session.exec(select(AuditEntry)).all()
    expected = {"resolve": "triage_resolve", "assign": "triage_assign", "reply": "triage_reply", "reveal": "reveal"}
    assert (entry.action, entry.actor, entry.client_ip, entry.detail.startswith("{")) == (
        expected[action], "supervisor@example.com", "203.0.113.9", True)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_warehouse_staff_of_another_warehouse_find_no_such_tag(db, tag, action):
    guangzhou = add_warehouse(db, code="GZ", name="广州仓")
    actor = staff_actor(db, "warehouse", warehouse_id=guangzhou.id)
    before = _state(db, tag.id)
    with pytest.raises(NotFound):
        ACTIONS[action](db, actor, tag.id)
    assert _state(db, tag.id) == before
