"""Personal data stays out of caches and URLs: every portal page is no-store,
and no link, form target, redirect or pushed URL carries a phone number, a
name or an address (URLs end up in logs, histories and Referer headers)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote, urljoin, urlsplit

from core.config import get_settings
from core.services.tracking import links as tracking_links
from tests.factories import ALICE_PHONE
from tests.portal.pages import HTMX, sign_in_by_sms, soup, submit, varies_on

URL_ATTRIBUTES = ("href", "action", "src", "hx-get", "hx-post", "hx-push-url")
ALICE_PERSONAL = ["13800138000", "138****8000", "张三", "张", "文三路", "310012", "浙江", "杭州", "西湖"]


def tracking_link(order) -> str:  # noqa: ANN001
    return "/t/" + tracking_links.make_token(order, secret=get_settings().secret_key, valid_for=timedelta(days=1))


def signed_in_pages(cast) -> list[str]:  # noqa: ANN001
    paid, shipped = cast.alice_paid.ref, cast.alice_shipped.ref
    return [
        "/orders", "/orders?f=shipped", "/orders?q=" + paid, f"/orders/{paid}", f"/orders/{shipped}",
        f"/orders/{paid}/address", f"/orders/{shipped}/address", f"/orders/{paid}/terms",
    ]


def test_signed_in_pages_are_never_cached(alice, cast):
    for path in signed_in_pages(cast):
        for headers in ({}, HTMX):
            response = alice.get(path, headers=headers)
            assert response.status_code == 200, path
            assert response.headers["cache-control"] == "no-store", path


def test_form_answers_and_redirects_are_never_cached(alice, cast):
    page = soup(alice.get(f"/orders/{cast.alice_paid.ref}/address"))
    invalid = submit(alice, page, "#address-box form", street="x")
    assert invalid.status_code == 422
    hurried = submit(alice, soup(alice.get(f"/orders/{cast.alice_paid.ref}")), "form[action$='/hurry']", htmx=True)
    assert hurried.status_code == 200
    for response in (invalid, hurried):
        assert response.headers["cache-control"] == "no-store"


def test_sign_in_and_tracking_pages_are_never_cached(stranger, cast):
    login = stranger.get("/login")
    code = submit(stranger, soup(login), "form[action='/login']", phone=ALICE_PHONE, htmx=True)
    link = tracking_link(cast.alice_shipped)
    for response in (login, code, stranger.get(link), stranger.get(link + "/qr.svg"), stranger.get("/t/forged")):
        assert response.headers["cache-control"] == "no-store", response.request.url


def test_tracking_page_does_not_leak_its_link_to_other_sites(stranger, cast):
    headers = stranger.get(tracking_link(cast.alice_shipped)).headers
    assert headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'self'" in headers["content-security-policy"]


def test_pages_that_have_a_fragment_vary_on_hx_request(alice, cast):
    for path in ("/orders", "/login", f"/orders/{cast.alice_paid.ref}/address"):
        assert "hx-request" in varies_on(alice.get(path)), path


def urls_on(page, attributes: tuple[str, ...] = URL_ATTRIBUTES) -> list[str]:  # noqa: ANN001
    found = [tag[attribute] for attribute in attributes for tag in page.find_all(attrs={attribute: True})]
    return [url for url in found if url not in ("true", "false")]  # hx-push-url="true" pushes the request URL


def assert_no_personal_data(url: str) -> None:
    readable = unquote(url)
    for personal in ALICE_PERSONAL:
        assert personal not in readable, f"{personal!r} in {url}"


def test_no_url_in_the_portal_carries_personal_data(alice, cast):
    """Follow every same-site link from Alice's pages and check every URL seen."""
    to_visit = [*signed_in_pages(cast), tracking_link(cast.alice_shipped)]
    visited: set[str] = set()
    while to_visit and len(visited) < 80:
        path = to_visit.pop()
        if path in visited:
            continue
        visited.add(path)
        response = alice.get(path, follow_redirects=False)
        for header in ("location", "hx-push-url", "hx-redirect"):
            if header in response.headers:
                assert_no_personal_data(response.headers[header])
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        page = soup(response)
        for url in urls_on(page):
            assert_no_personal_data(url)
        for url in urls_on(page, ("href", "hx-get")):
            target = urljoin(path, url)
            if urlsplit(target).netloc or target.startswith(("/logout", "/lang/", "/static/")):
                continue
            to_visit.append(target)
    assert len(visited) > 15, "the crawl reached the order pages"


def test_flows_never_put_personal_data_in_urls(stranger, alice, cast):
    sent = submit(stranger, soup(stranger.get("/login")), "form[action='/login']", phone=ALICE_PHONE)
    assert_no_personal_data(sent.headers["location"])
    pushed = submit(stranger, soup(stranger.get("/login")), "form[action='/login']", phone="13700137000", htmx=True)
    assert_no_personal_data(pushed.headers["hx-push-url"])
    changed = submit(alice, soup(alice.get(f"/orders/{cast.alice_paid.ref}/address")), "#address-box form",
                     city="湖州市", district="吴兴区")
    assert changed.status_code == 303
    assert_no_personal_data(changed.headers["location"])


def test_forms_that_carry_personal_data_are_posted(alice, stranger, cast):
    login = soup(stranger.get("/login"))
    address = soup(alice.get(f"/orders/{cast.alice_paid.ref}/address"))
    for form in (login.select_one("form:has(input[name=phone])"), address.select_one("form:has(input[name=street])")):
        assert form["method"] == "post"
        assert form["hx-post"] == form["action"]


def test_session_cookie_is_out_of_reach_of_scripts(stranger):
    response = sign_in_by_sms(stranger, ALICE_PHONE)
    [session_cookie] = [h for h in response.headers.get_list("set-cookie") if h.startswith("od_session=")]
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
