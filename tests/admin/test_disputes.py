"""The dispute board: overdue open disputes first, then the rest by due date, at most
BOARD_SIZE of them, with counts over all disputes."""

from datetime import UTC, datetime, timedelta

from bs4 import BeautifulSoup

from core.services.actors import Actor
from core.services.disputes import cases as disputes
from tests.factories import make_order

# The board as a supervisor sees it: every warehouse's disputes.
EVERYONE = Actor.system(via="test")


def test_board_shows_the_most_urgent_first_and_says_how_many_are_left_out(as_staff, db, cast, monkeypatch):
    now = datetime.now(UTC)
    admin = Actor.staff_member(cast["admin"])
    opened = {}
    for label, due in [("later", 5), ("soon", 1), ("closed", 2), ("overdue", None)]:
        order = make_order(db)
        dispute = disputes.open_dispute(db, admin, order.ref, kind="late", claim="太慢了",
                                        due_at=now + timedelta(days=due) if due else None, now=now - timedelta(days=4))
        opened[label] = dispute.id
    disputes.set_status(db, admin, opened["closed"], "withdrawn")
    board = disputes.board(db, EVERYONE, now=now)
    assert [d.id for d, _ in board.disputes] == [opened["overdue"], opened["soon"], opened["closed"], opened["later"]]
    assert board.overdue == 1 and board.matching == 4
    assert board.by_status["open"] == 3 and board.by_status["withdrawn"] == 1 and board.by_kind["late"] == 4

    monkeypatch.setattr(disputes, "BOARD_SIZE", 2)
    client = as_staff("support")
    client.get("/lang/en")
    page = BeautifulSoup(client.get("/admin/disputes").text, "html.parser")
    assert [a.get_text(strip=True) for a in page.select("tbody a")] == [f"#{opened['overdue']}", f"#{opened['soon']}"]
    assert "The 2 most urgent of 4 disputes are shown" in page.get_text(" ", strip=True)


def test_board_filters_count_what_they_match(db, cast):
    admin = Actor.staff_member(cast["admin"])
    for kind in ("late", "late", "damaged"):
        disputes.open_dispute(db, admin, make_order(db).ref, kind=kind, claim="……")
    assert disputes.board(db, EVERYONE, kind="late").matching == 2
    assert disputes.board(db, EVERYONE, status="open").matching == 3
    assert disputes.board(db, EVERYONE, status="open", kind="damaged").matching == 1
    assert disputes.board(db, EVERYONE, status="won").matching == 0


def test_a_due_day_on_the_form_makes_the_dispute_due_at_18_00_that_day(as_staff, db, cast):
    from zoneinfo import ZoneInfo

    from core.models import Dispute

    shanghai = ZoneInfo("Asia/Shanghai")
    order = make_order(db, paid=True)
    client = as_staff("support")
    day = datetime.now(shanghai).date() + timedelta(days=4)
    opened = client.post(f"/admin/orders/{order.ref}/disputes", follow_redirects=False, data={
        "kind": "late", "claim": "太慢了", "due_on": day.isoformat(), "_csrf_token": client.csrf})
    assert opened.status_code == 303
    dispute_id = int(opened.headers["location"].rsplit("/", 1)[1])
    with db.read() as session:
        due = session.get(Dispute, dispute_id).due_at
    assert due.astimezone(shanghai) == datetime(day.year, day.month, day.day, 18, 0, tzinfo=shanghai)

    client.get("/lang/en")
    past = client.post(f"/admin/orders/{order.ref}/disputes", data={
        "kind": "late", "claim": "太慢了", "due_on": (day - timedelta(days=30)).isoformat(), "_csrf_token": client.csrf})
    assert past.status_code == 422
    assert "The due date must be in the future." in BeautifulSoup(past.text, "html.parser").get_text(" ", strip=True)


def test_warehouse_staff_see_their_warehouses_dispute_and_get_404_for_another(as_staff, db, cast, warehouses):
    support = Actor.staff_member(cast["support"])
    ours = disputes.open_dispute(db, support, make_order(db, paid=True, warehouse_id=warehouses["HZ"].id).ref,
                                 kind="late", claim="太慢了")
    theirs = disputes.open_dispute(db, support, make_order(db, paid=True, warehouse_id=warehouses["GZ"].id).ref,
                                   kind="late", claim="太慢了")
    hangzhou = as_staff("warehouse")
    assert hangzhou.get(f"/admin/disputes/{ours.id}").status_code == 200
    assert hangzhou.get(f"/admin/disputes/{theirs.id}").status_code == 404


def test_warehouse_staff_see_and_count_only_their_warehouses_disputes(as_staff, db, cast, warehouses):
    admin = Actor.staff_member(cast["admin"])
    for code, kind in (("HZ", "late"), ("HZ", "damaged"), ("GZ", "late")):
        order = make_order(db, warehouse_id=warehouses[code].id)
        disputes.open_dispute(db, admin, order.ref, kind=kind, claim="……")
    hangzhou = Actor.staff_member(cast["warehouse"])
    board = disputes.board(db, hangzhou)
    assert {o.warehouse_id for _, o in board.disputes} == {warehouses["HZ"].id}
    assert (board.matching, board.by_kind["late"], sum(board.by_status.values())) == (2, 1, 2)
    page = BeautifulSoup(as_staff("warehouse").get("/admin/disputes").text, "html.parser")
    assert len(page.select("tbody tr")) == 2
    assert disputes.board(db, EVERYONE).matching == 3
