"""Signing in with a texted code: the pages, the htmx fragments, the limits,
the session cookie, where the shopper lands afterwards, and signing out."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

from core.services.identity import customer_sessions as sessions
from tests.factories import ALICE_PHONE, BOB_PHONE
from tests.portal.conftest import SESSION_COOKIE, sign_in
from tests.portal.pages import HTMX, is_fragment, latest_code, sign_in_by_sms, soup, submit, text, texts_to, varies_on

NO_ORDERS_PHONE = "13700137000"
PHONE_FORM = "form[action='/login']"
CODE_FORM = "form[action='/login/verify']"


def set_cookies(response) -> dict:  # noqa: ANN001
    jar = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return jar


def session_of(db, token: str | None) -> str | None:  # noqa: ANN001
    from datetime import timedelta

    return sessions.session_phone(db, token, idle=timedelta(hours=2), absolute=timedelta(hours=72))


def ask_for_code(client, phone: str, *, htmx: bool = False, next_path: str = "/orders"):  # noqa: ANN001
    page = soup(client.get("/login", params={"next": next_path}))
    return submit(client, page, PHONE_FORM, htmx=htmx, phone=phone)


def test_login_page_asks_for_the_mobile_number(stranger):
    response = stranger.get("/login")
    assert response.status_code == 200
    page = soup(response)
    assert text(page.h1) == "Verify your phone"
    field = page.select_one(PHONE_FORM + " input#phone")
    assert text(page.select_one("label[for=phone]")) == "Mobile number"
    assert field["type"] == "tel" and field["autocomplete"] == "tel"
    assert page.select_one(PHONE_FORM + " input[name=next]")["value"] == "/orders"
    assert "hx-request" in varies_on(response)


def test_htmx_phone_submit_returns_only_the_code_form(stranger):
    response = ask_for_code(stranger, ALICE_PHONE, htmx=True)
    assert response.status_code == 200
    fragment = soup(response)
    assert is_fragment(fragment) and fragment.h1 is None
    assert "We sent a code to 138****8000. It is valid for 5 minutes." in text(fragment)
    assert fragment.select_one(CODE_FORM + " input#code")["autocomplete"] == "one-time-code"
    assert fragment.select_one("input#phone") is None
    assert response.headers["hx-push-url"] == "/login/verify?next=%2Forders"
    assert set_cookies(response)["od_login"]["httponly"]


def test_plain_phone_submit_redirects_to_the_code_page(stranger):
    response = ask_for_code(stranger, ALICE_PHONE)
    assert response.status_code == 303
    assert response.headers["location"] == "/login/verify?next=%2Forders"
    page = soup(stranger.get(response.headers["location"]))
    assert text(page.h1) == "Verify your phone"
    assert "We sent a code to 138****8000." in text(page.select_one("#login-box"))
    assert text(page.select_one("label[for=code]")) == "6-digit code"


def test_the_phone_number_never_appears_in_a_url(stranger):
    plain = ask_for_code(stranger, ALICE_PHONE)
    htmx = ask_for_code(stranger, BOB_PHONE, htmx=True)
    urls = [plain.headers["location"], htmx.headers["hx-push-url"]]
    for url in urls:
        assert "13800138000" not in url and "13912345678" not in url and "8000" not in url


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_bad_phone_is_explained_beside_the_field_and_kept(stranger, htmx):
    response = ask_for_code(stranger, "12345", htmx=htmx)
    assert response.status_code == 422
    page = soup(response)
    assert is_fragment(page) is htmx
    field = page.select_one("input#phone")
    assert field["value"] == "12345"
    assert field["aria-invalid"] == "true"
    assert text(page.select_one("#" + field["aria-describedby"])) == "This phone number is not valid."


def test_number_from_a_country_we_do_not_text_is_refused(stranger):
    before = len(texts_to("+447911123456"))
    response = ask_for_code(stranger, "+447911123456")
    assert response.status_code == 422
    page = soup(response)
    assert text(page.select_one("#phone-error")) == "We cannot send text messages to numbers in this country or region."
    assert page.select_one("input#phone")["value"] == "+447911123456"
    assert len(texts_to("+447911123456")) == before


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_second_code_within_a_minute_is_refused_with_retry_after(stranger, htmx):
    assert ask_for_code(stranger, ALICE_PHONE).status_code == 303
    sent = len(texts_to(ALICE_PHONE))
    response = ask_for_code(stranger, ALICE_PHONE, htmx=htmx)
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    page = soup(response)
    assert is_fragment(page) is htmx
    assert "A code was just sent. You can ask for a new one in" in text(page.select_one("#phone-error"))
    assert page.select_one("input#phone")["value"] == ALICE_PHONE
    assert len(texts_to(ALICE_PHONE)) == sent


def test_resend_too_soon_stays_on_the_code_form(stranger):
    ask_for_code(stranger, ALICE_PHONE)
    page = soup(stranger.get("/login/verify"))
    response = submit(stranger, page, "form[action='/login/resend']")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    again = soup(response)
    assert "We sent a code to 138****8000." in text(again.select_one("#login-box"))
    assert "A code was just sent." in text(again.select_one("#code-error"))


def test_right_code_sets_a_session_cookie_and_goes_to_next(stranger, cast, db):
    target = f"/orders/{cast.alice_paid.ref}"
    response = sign_in_by_sms(stranger, ALICE_PHONE, next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == target
    cookies = set_cookies(response)
    session_cookie = cookies[SESSION_COOKIE]
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"].lower() == "lax"
    assert session_cookie["path"] == "/"
    assert session_of(db, session_cookie.value) == "+8613800138000"
    assert cookies["od_login"]["max-age"] == "0", "the pending-code cookie is cleared"
    page = soup(stranger.get(target))
    assert text(page.h1) == f"Order {cast.alice_paid.ref}"


def test_htmx_code_submit_redirects_with_hx_redirect(stranger, cast):
    ask_for_code(stranger, ALICE_PHONE, next_path="/orders?f=shipped")
    page = soup(stranger.get("/login/verify", params={"next": "/orders?f=shipped"}))
    response = submit(stranger, page, CODE_FORM, htmx=True, code=latest_code(ALICE_PHONE))
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/orders?f=shipped"
    assert SESSION_COOKIE in set_cookies(response)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_wrong_code_is_explained_beside_the_code_field(stranger, htmx):
    ask_for_code(stranger, ALICE_PHONE)
    page = soup(stranger.get("/login/verify"))
    right = latest_code(ALICE_PHONE)
    response = submit(stranger, page, CODE_FORM, htmx=htmx, code=f"{(int(right) + 1) % 10**6:06d}")
    assert response.status_code == 422
    again = soup(response)
    assert is_fragment(again) is htmx
    field = again.select_one("input#code")
    assert text(again.select_one("#" + field["aria-describedby"])) == "That code is not right. 4 tries left."
    assert SESSION_COOKIE not in set_cookies(response)
    assert stranger.get("/orders", follow_redirects=False).status_code == 303


def test_code_page_without_a_pending_code_goes_back_to_the_phone_form(stranger):
    response = stranger.get("/login/verify", params={"next": "/orders/OD123"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Forders%2FOD123"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/orders", "/\\evil.example", "javascript:alert(1)", "orders"]
)
def test_next_can_never_send_the_shopper_off_site(stranger, target):
    page = soup(stranger.get("/login", params={"next": target}))
    assert page.select_one(PHONE_FORM + " input[name=next]")["value"] == "/orders"
    submit(stranger, page, PHONE_FORM, phone=ALICE_PHONE, next=target)
    code_page = soup(stranger.get("/login/verify", params={"next": target}))
    assert code_page.select_one(CODE_FORM + " input[name=next]")["value"] == "/orders"
    response = submit(stranger, code_page, CODE_FORM, code=latest_code(ALICE_PHONE), next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/orders"


def test_signing_in_replaces_any_earlier_session(stranger, db):
    planted = sign_in(stranger, db, BOB_PHONE)
    response = sign_in_by_sms(stranger, ALICE_PHONE)
    fresh = set_cookies(response)[SESSION_COOKIE].value
    assert fresh != planted
    assert session_of(db, planted) is None, "the session from before sign-in ends"
    assert session_of(db, fresh) == "+8613800138000"


def test_a_phone_without_orders_signs_in_like_any_other(browser, cast):
    with_orders, without_orders = browser(), browser()
    first, second = ask_for_code(with_orders, ALICE_PHONE), ask_for_code(without_orders, NO_ORDERS_PHONE)
    assert (first.status_code, first.headers["location"]) == (second.status_code, second.headers["location"])
    code_page = soup(without_orders.get(second.headers["location"]))
    landed = submit(without_orders, code_page, CODE_FORM, code=latest_code(NO_ORDERS_PHONE))
    assert landed.headers["location"] == "/orders"
    page = soup(without_orders.get("/orders"))
    assert page.select(".order-card") == []
    assert "No orders here." in text(page.select_one(".empty"))


def test_logout_ends_the_session_on_the_server(stranger, db):
    sign_in_by_sms(stranger, ALICE_PHONE)
    token = stranger.cookies.get(SESSION_COOKIE)
    page = soup(stranger.get("/orders"))
    response = submit(stranger, page, "form[action='/logout']")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert set_cookies(response)[SESSION_COOKIE]["max-age"] == "0"
    assert session_of(db, token) is None
    stranger.cookies.set(SESSION_COOKIE, token, domain="127.0.0.1", path="/")
    again = stranger.get("/orders", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/login?next=%2Forders"


def test_forms_without_the_csrf_token_are_refused(stranger):
    stranger.get("/login")
    response = stranger.post("/login", data={"phone": ALICE_PHONE, "next": "/orders"}, follow_redirects=False)
    assert response.status_code == 403
    htmx = stranger.post("/login", data={"phone": ALICE_PHONE}, headers=HTMX, follow_redirects=False)
    assert htmx.status_code == 403
