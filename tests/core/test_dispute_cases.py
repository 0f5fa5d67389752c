"""Staff actions on a dispute as use cases: each writes its change, the dispute's timeline, the
order's history, the text to the customer and its audit entry together or not at all; a
warehouse's staff cannot reach another warehouse's disputes; a due date chosen as a day means
18:00 that day in the shop's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from core.config import get_settings
from core.errors import InvalidInput, NotFound
from core.models import AuditEntry, Dispute, DisputeAction, DisputeStatus, OrderHistory, OutboxMessage
from core.services.actors import Actor
from core.services.audit import trail
from core.services.disputes import case_file, problem_reports
from core.services.disputes import cases as disputes
from core.services.disputes.photos import Upload
from core.services.identity.permissions import ROLE_PERMISSIONS, Permission, Role
from core.services.identity.staff import create_staff
from core.storage import get_photo_storage
from tests.factories import ALICE_PHONE, add_warehouse, deliver, make_order, ship
from tests.photos import jpeg_with_gps

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct horse battery staple"

# Who creates the test cast's staff accounts (the command line, in real life).
SEEDER = Actor.system(via="test")

# The board as a supervisor sees it: every warehouse's disputes.
EVERYONE = Actor.system(via="test")


class AuditDown(Exception):
    pass


@pytest.fixture
def hangzhou(db):
    return add_warehouse(db, "HZ")


@pytest.fixture
def support(db):
    staff = create_staff(db, SEEDER, email="support@shop.test", role="support", password=PASSWORD)
    return Actor.staff_member(staff, client_ip="203.0.113.9")


@pytest.fixture
def other_warehouse(db):
    """Warehouse staff of a warehouse that is not the order's."""
    guangzhou = add_warehouse(db, "GZ")
    staff = create_staff(db, SEEDER, email="gz@shop.test", role="warehouse", password=PASSWORD, warehouse_id=guangzhou.id)
    return Actor.staff_member(staff)


@pytest.fixture
def dispute(db, hangzhou, support):
    order = make_order(db, paid=True, warehouse_id=hangzhou.id)
    return disputes.open_dispute(db, support, order.ref, kind="not_received", claim="客户称未收到")


@pytest.fixture
def audit_down(monkeypatch):
    """Every audit entry fails to be written until the test ends."""
    def refuse(*_args, **_kwargs) -> None:  # noqa: ANN002, ANN003
        raise AuditDown("audit insert refused")

    monkeypatch.setattr(trail, "append", refuse)


def written(db, dispute_id: int) -> dict:  # noqa: ANN001
    """What a dispute action leaves behind, beside the dispute itself."""
    with db.read() as session:
        stored = session.get(Dispute, dispute_id)
        return {
            "status": stored.status,
            "actions": [a.kind for a in session.exec(select(DisputeAction).where(DisputeAction.dispute_id == dispute_id)
                                                     .order_by(DisputeAction.id))],
            "history": [h.kind for h in session.exec(select(OrderHistory).where(OrderHistory.order_id == stored.order_id,
                                                                                OrderHistory.kind != "created")
                                                     .order_by(OrderHistory.id))
                        if h.kind in ("dispute_opened", "reply")],
            "texts": len(session.exec(select(OutboxMessage).where(OutboxMessage.event == "dispute_update")).all()),
            "audit": [(e.action, e.actor, e.client_ip) for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))],
        }


def test_a_due_day_means_six_in_the_evening_in_the_shops_time_zone():
    assert disputes.due_at_for("2030-05-01", SHANGHAI) == datetime(2030, 5, 1, 10, 0, tzinfo=UTC)
    assert disputes.due_at_for(date(2030, 5, 1), ZoneInfo("Europe/Berlin")) == datetime(2030, 5, 1, 16, 0, tzinfo=UTC)
    # Not a day: the dispute gets the default due date instead.
    assert disputes.due_at_for("", SHANGHAI) is None
    assert disputes.due_at_for("next tuesday", SHANGHAI) is None


def test_a_dispute_opened_with_a_due_day_is_due_at_18_00_that_day(db, support):
    day = datetime.now(SHANGHAI).date() + timedelta(days=5)
    opened = disputes.open_dispute(db, support, make_order(db).ref, kind="late", claim="太慢了", due_on=day.isoformat())
    with db.read() as session:
        due = session.get(Dispute, opened.id).due_at
    assert due.astimezone(get_settings().tz) == datetime(day.year, day.month, day.day, 18, 0, tzinfo=SHANGHAI)

    without = disputes.open_dispute(db, support, make_order(db).ref, kind="late", claim="太慢了", due_on="31/02")
    assert without.due_at - without.created_at == disputes.DEFAULT_DUE
    with pytest.raises(InvalidInput, match="must be in the future"):
        disputes.open_dispute(db, support, make_order(db).ref, kind="late", claim="太慢了",
                              due_on=(day - timedelta(days=10)).isoformat())


def test_each_staff_action_writes_its_audit_entry_in_the_same_transaction(db, dispute, support):
    disputes.set_status(db, support, dispute.id, "submitted", "已向顺丰索赔")
    disputes.reply_to_customer(db, support, dispute.id, "已为您申请补发。")
    after = written(db, dispute.id)
    assert after["status"] == "submitted"
    assert after["actions"] == ["opened", "status", "reply"]
    assert after["history"] == ["dispute_opened", "reply"]
    assert after["texts"] == 2
    assert after["audit"] == [(action, "support@shop.test", "203.0.113.9")
                              for action in ("open_dispute", "dispute_status", "dispute_reply")]


def test_a_status_change_whose_audit_entry_cannot_be_written_does_not_happen(db, dispute, support, audit_down):
    before = written(db, dispute.id)
    with pytest.raises(AuditDown):
        disputes.set_status(db, support, dispute.id, "submitted", "已向顺丰索赔")
    after = written(db, dispute.id)
    assert after == before
    assert after["status"] == DisputeStatus.OPEN and after["actions"] == ["opened"] and after["texts"] == 0


def test_a_reply_whose_audit_entry_cannot_be_written_is_neither_kept_nor_texted(db, dispute, support, audit_down):
    before = written(db, dispute.id)
    with pytest.raises(AuditDown):
        disputes.reply_to_customer(db, support, dispute.id, "已为您申请补发。")
    assert written(db, dispute.id) == before


def test_a_dispute_whose_audit_entry_cannot_be_written_is_not_opened(db, hangzhou, support, audit_down):
    order = make_order(db, paid=True, warehouse_id=hangzhou.id)
    with pytest.raises(AuditDown):
        disputes.open_dispute(db, support, order.ref, kind="late", claim="太慢了")
    with db.read() as session:
        assert session.exec(select(Dispute)).all() == []
        assert session.exec(select(OrderHistory).where(OrderHistory.kind == "dispute_opened")).all() == []


def test_the_status_change_goes_through_once_the_audit_is_back(db, dispute, support):
    """The control case: the failure above is why nothing changed, not the transition."""
    disputes.set_status(db, support, dispute.id, "submitted")
    assert written(db, dispute.id)["status"] == "submitted"


@pytest.fixture
def warehouses_work_disputes(monkeypatch):
    """As if the merchant let the warehouse role work disputes and see photos: its scope must still hold."""
    granted = ROLE_PERMISSIONS[Role.WAREHOUSE] | {Permission.CREATE_DISPUTE, Permission.VIEW_CUSTOMER_PHOTOS}
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.WAREHOUSE, granted)


def test_another_warehouse_cannot_reach_the_dispute_and_nothing_is_written(db, dispute, other_warehouse,
                                                                           warehouses_work_disputes):
    before = written(db, dispute.id)
    with pytest.raises(NotFound):
        disputes.set_status(db, other_warehouse, dispute.id, "withdrawn")
    with pytest.raises(NotFound):
        disputes.reply_to_customer(db, other_warehouse, dispute.id, "你好")
    with pytest.raises(NotFound):
        disputes.open_dispute(db, other_warehouse, written_order_ref(db, dispute.id), kind="late", claim="慢")
    with pytest.raises(NotFound):
        case_file.for_staff(db, other_warehouse, dispute.id)
    assert written(db, dispute.id) == before
    with db.read() as session:
        assert len(session.exec(select(Dispute)).all()) == 1


def test_the_orders_own_warehouse_may_act_once_allowed(db, dispute, hangzhou, warehouses_work_disputes):
    """The control case: the refusals above come from the scope, not from the granted permission."""
    staff = create_staff(db, SEEDER, email="hz@shop.test", role="warehouse", password=PASSWORD, warehouse_id=hangzhou.id)
    disputes.set_status(db, Actor.staff_member(staff), dispute.id, "withdrawn")
    assert written(db, dispute.id)["status"] == "withdrawn"


def written_order_ref(db, dispute_id: int) -> str:  # noqa: ANN001
    return case_file.for_staff(db, Actor.system(), dispute_id).order.ref


def test_a_role_without_the_permission_cannot_act_even_without_the_route_guard(db, dispute):
    compliance = Actor.staff_member(create_staff(db, SEEDER, email="c@shop.test", role="compliance", password=PASSWORD))
    with pytest.raises(NotFound):
        disputes.set_status(db, compliance, dispute.id, "withdrawn")
    assert written(db, dispute.id)["status"] == "open"


def test_an_unknown_dispute_is_not_found(db, support):
    with pytest.raises(NotFound):
        disputes.set_status(db, support, 404, "withdrawn")


def test_the_board_marks_open_disputes_past_their_due_date_as_overdue(db, support):
    now = datetime.now(UTC)
    late = disputes.open_dispute(db, support, make_order(db).ref, kind="late", claim="慢", now=now - timedelta(days=4))
    closed = disputes.open_dispute(db, support, make_order(db).ref, kind="late", claim="慢", now=now - timedelta(days=4))
    disputes.set_status(db, support, closed.id, "withdrawn")
    fresh = disputes.open_dispute(db, support, make_order(db).ref, kind="late", claim="慢")
    board = disputes.board(db, EVERYONE, now=now)
    assert {d.id: board.is_overdue(d) for d, _ in board.disputes} == {late.id: True, closed.id: False, fresh.id: False}


@pytest.fixture
def reported_photo(db, hangzhou):
    order = make_order(db, paid=True, warehouse_id=hangzhou.id)
    ship(db, order.ref, at=datetime.now(UTC) - timedelta(days=2))
    deliver(db, order.ref, at=datetime.now(UTC) - timedelta(days=1))
    outcome = problem_reports.report_problem(
        db, Actor.customer("+86" + ALICE_PHONE), order.ref, storage=get_photo_storage(get_settings()),
        kind="damaged", description="碎了", uploads=[Upload("a.jpg", jpeg_with_gps())])
    ((_, (photo,)),) = case_file.for_staff(db, Actor.system(), outcome.dispute_id).reports
    return order, outcome.dispute_id, photo.id


def test_a_photo_view_is_audited_and_a_failed_audit_shows_no_photo(db, reported_photo, support, monkeypatch):
    order, dispute_id, photo_id = reported_photo
    storage = get_photo_storage(get_settings())
    shown = case_file.view_photo(db, support, dispute_id, photo_id, storage=storage)
    assert shown.content[:2] == b"\xff\xd8" and shown.media_type == "image/jpeg"
    with db.read() as session:
        views = [(e.action, e.order_ref) for e in session.exec(select(AuditEntry))]
    assert views == [("photo_view", order.ref)]

    def refuse(*_args, **_kwargs) -> None:  # noqa: ANN002, ANN003
        raise AuditDown("audit insert refused")

    monkeypatch.setattr(trail, "append", refuse)
    with pytest.raises(AuditDown):
        case_file.view_photo(db, support, dispute_id, photo_id, storage=storage)


def test_another_warehouse_and_a_wrong_dispute_get_no_photo_and_leave_no_audit_entry(
        db, reported_photo, support, other_warehouse, warehouses_work_disputes):
    _, dispute_id, photo_id = reported_photo
    storage = get_photo_storage(get_settings())
    with pytest.raises(NotFound):
        case_file.view_photo(db, other_warehouse, dispute_id, photo_id, storage=storage)
    with pytest.raises(NotFound):  # the photo is not one of this dispute's
        case_file.view_photo(db, support, dispute_id + 1, photo_id, storage=storage)
    with db.read() as session:
        assert session.exec(select(AuditEntry)).all() == []


def test_a_role_without_the_photo_permission_gets_no_photo_from_the_use_case(db, reported_photo):
    _, dispute_id, photo_id = reported_photo
    warehouse = Actor.staff_member(create_staff(db, SEEDER, email="w@shop.test", role="warehouse", password=PASSWORD,
                                                warehouse_id=reported_photo[0].warehouse_id))
    with pytest.raises(NotFound):
        case_file.view_photo(db, warehouse, dispute_id, photo_id, storage=get_photo_storage(get_settings()))
