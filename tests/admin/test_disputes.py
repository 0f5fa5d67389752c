"""The dispute board: overdue open disputes first, then the rest by due date, at most
BOARD_SIZE of them, with counts over all disputes."""

from datetime import UTC, datetime, timedelta

from bs4 import BeautifulSoup

from core.services.actors import Actor
from core.services.disputes import cases as disputes
from tests.factories import make_order


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
    board = disputes.board(db, now=now)
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
    assert disputes.board(db, kind="late").matching == 2
    assert disputes.board(db, status="open").matching == 3
    assert disputes.board(db, status="open", kind="damaged").matching == 1
    assert disputes.board(db, status="won").matching == 0
