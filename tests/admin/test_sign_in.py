"""The staff sign-in page: the form, a failed try answered on the same form, the session cookie,
where staff land afterwards, and signing out."""

from __future__ import annotations

from sqlmodel import select

from core.models import AuditEntry
from core.services.identity import staff as staff_service
from tests.admin.conftest import PASSWORD, form_post, soup


def sign_in_form(client, email: str, password: str, *, next_path: str = "/admin/"):  # noqa: ANN001
    return form_post(client, "/admin/login", "/admin/login",
                     {"email": email, "password": password, "next": next_path})


def audited(db) -> list[tuple[str, str]]:  # noqa: ANN001
    with db.read() as session:
        return [(e.action, e.actor) for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()]


def test_right_password_sets_the_staff_cookie_and_goes_to_next(client, db, cast):
    response = sign_in_form(client, "support@shop.test", PASSWORD, next_path="/admin/orders")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/orders"
    token = response.cookies["od_staff"]
    assert staff_service.session_staff(db, token).email == "support@shop.test"
    assert audited(db) == [("login", "support@shop.test")]


def test_wrong_password_is_answered_on_the_form_with_the_email_kept(client, db, cast):
    response = sign_in_form(client, "support@shop.test", "not the password")
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one("#login-error[role=alert]").get_text(strip=True) == "邮箱或密码错误。"  # zh_CN: the admin's default
    assert page.select_one("input[name=email]")["value"] == "support@shop.test"
    assert "od_staff" not in response.cookies
    assert audited(db) == [("login_failed", "system")]


def test_next_outside_the_admin_goes_to_the_admin_home(client, cast):
    response = sign_in_form(client, "support@shop.test", PASSWORD, next_path="/orders")
    assert response.headers["location"] == "/admin/"


def test_signing_in_again_ends_the_earlier_session(client, db, cast):
    first = sign_in_form(client, "support@shop.test", PASSWORD).cookies["od_staff"]
    client.cookies.set("od_staff", first)
    second = sign_in_form(client, "admin@shop.test", PASSWORD).cookies["od_staff"]
    assert staff_service.session_staff(db, first) is None
    assert staff_service.session_staff(db, second).email == "admin@shop.test"


def test_sign_out_ends_the_session_on_the_server(client, db, cast):
    token = sign_in_form(client, "support@shop.test", PASSWORD).cookies["od_staff"]
    client.cookies.set("od_staff", token)
    response = form_post(client, "/admin/", "/admin/logout", {})
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    assert staff_service.session_staff(db, token) is None
