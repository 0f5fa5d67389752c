"""Signing in inside WeChat: the openid is asked for silently, linked after the first SMS
verification, and from then on signs the shopper in without a code. Forged and replayed
callbacks, foreign redirect targets, an openid linked to another phone and WeChat being
down each get a clear answer; outside WeChat, or unconfigured, nothing changes.

The real client code talks to the simulated WeChat server over HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar.testing import TestClient
from sqlmodel import select

from core.config import get_settings
from core.models import CustomerSession, WechatBinding, WechatBindingEvent, WechatLogin
from core.phones import normalize_phone
from core.services.identity import wechat_login as wechat_service
from tests.factories import ALICE_PHONE, BOB_PHONE
from tests.portal.pages import HTMX, sign_in_by_sms, soup, submit, text, texts, texts_to
from tests.wechat import (
    DEVICE_OPENID,
    PHONE_UA,
    WECHAT_UA,
    callback_url,
    link,
    through_wechat,
    wechat_settings,
    wechat_simulator,
)


@pytest.fixture
def sim():
    with wechat_simulator() as url:
        yield url


@pytest.fixture
def wechat(sim):
    with wechat_settings(sim):
        yield sim


@pytest.fixture
def app(db, wechat):  # the portal with the official account configured
    from app import create_app

    return create_app(get_settings(), db)


def bindings(db) -> list[WechatBinding]:
    with db.read() as session:
        return list(session.exec(select(WechatBinding)).all())


def session_count(db) -> int:
    with db.read() as session:
        return len(session.exec(select(CustomerSession)).all())


def test_first_visit_in_wechat_asks_for_the_code_once_then_links_the_phone(cast, browser, wechat, db):
    shopper = browser()
    answer = through_wechat(shopper, wechat)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Forders"
    login = soup(shopper.get(answer.headers["location"]))
    assert "this WeChat account is then linked" in text(login.select_one(".notice"))
    assert bindings(db) == []

    done = sign_in_by_sms(shopper, ALICE_PHONE)
    assert done.status_code == 303 and done.headers["location"] == "/orders"
    [binding] = bindings(db)
    assert binding.openid == DEVICE_OPENID
    orders = soup(shopper.get("/orders"))
    assert text(orders.select_one("h1")) == "My orders"
    account = soup(shopper.get("/account"))
    assert texts(account, ".link-row strong") == [f"WeChat account …{DEVICE_OPENID[-6:]}"]
    assert f"WeChat account …{DEVICE_OPENID[-6:]} linked" in texts(account, ".history li")[0]


def test_linked_wechat_signs_in_without_a_code(cast, browser, wechat, db):
    link(db, ALICE_PHONE)
    codes_before = len(texts_to(ALICE_PHONE))
    shopper = browser()
    answer = through_wechat(shopper, wechat, f"/orders/{cast.alice_paid.ref}")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/orders/{cast.alice_paid.ref}"
    page = shopper.get(answer.headers["location"])
    assert page.status_code == 200
    assert cast.alice_paid.ref in text(soup(page).select_one("h1"))
    assert len(texts_to(ALICE_PHONE)) == codes_before  # no code was sent
    [binding] = bindings(db)
    assert binding.last_used_at is not None


def test_forged_state_is_refused_and_nothing_is_saved(cast, browser, wechat, db):
    victim = browser()
    url = callback_url(victim, wechat)  # a genuine code and state, for the victim's browser
    attacker = browser()
    attacker.headers["user-agent"] = WECHAT_UA
    answer = attacker.get(url, follow_redirects=False)  # no state cookie in this browser
    assert answer.status_code == 400
    page = soup(answer)
    assert text(page.select_one("h1")) == "Sign-in not completed"
    assert "not valid, has expired or was already used" in text(page.select_one(".error-page"))
    query = parse_qs(urlsplit(url).query)
    made_up = victim.get("/wechat/callback", params={"code": query["code"][0], "state": "made-up-state"},
                         follow_redirects=False)
    assert made_up.status_code == 400
    missing = victim.get("/wechat/callback", params={"code": query["code"][0]}, follow_redirects=False)
    assert missing.status_code == 400
    assert session_count(db) == 0
    assert bindings(db) == []
    with db.read() as session:
        assert session.exec(select(WechatLogin).where(WechatLogin.openid.is_not(None))).all() == []
    assert httpx.get(f"{wechat}/_sim/state").json()["calls"]["oauth"] == 0  # the code was never spent


def test_replayed_callback_is_refused(cast, browser, wechat, db):
    link(db, ALICE_PHONE)
    shopper = browser()
    url = callback_url(shopper, wechat)
    state_cookie = shopper.cookies.get("od_wx_state")
    first = shopper.get(url, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/orders"
    sessions_after_first = session_count(db)
    shopper.post("/logout", headers={"x-csrftoken": shopper.cookies.get("csrftoken", "")})
    replay = shopper.get(url, follow_redirects=False)
    assert replay.status_code == 400
    # Even with the state cookie put back (copied before it was cleared), the state works once.
    shopper.cookies.set("od_wx_state", state_cookie, domain="127.0.0.1", path="/")
    replay = shopper.get(url, follow_redirects=False)
    assert replay.status_code == 400
    assert "already used" in text(soup(replay).select_one(".error-page"))
    assert session_count(db) <= sessions_after_first
    assert httpx.get(f"{wechat}/_sim/state").json()["calls"]["oauth"] == 1


@pytest.mark.parametrize("target", ["https://evil.example/orders", "//evil.example/orders", "/\\evil.example"])
def test_next_pointing_to_another_site_is_not_followed(cast, browser, wechat, db, target):
    link(db, ALICE_PHONE)
    shopper = browser()
    shopper.headers["user-agent"] = WECHAT_UA
    start = shopper.get("/wechat/authorize", params={"next": target}, follow_redirects=False)
    authorize = start.headers["location"]
    assert "evil" not in authorize
    back = httpx.get(authorize.split("#", 1)[0], follow_redirects=False)
    callback = urlsplit(back.headers["location"])
    assert callback.netloc == "127.0.0.1:8000" and callback.path == "/wechat/callback"
    answer = shopper.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/orders"


def test_openid_linked_to_another_phone_stays_and_the_shopper_is_told(cast, browser, wechat, db):
    # Two browsers of the same WeChat user come back unlinked; the first verifies Bob's phone.
    first, second = browser(), browser()
    assert through_wechat(first, wechat).headers["location"].startswith("/login")
    assert through_wechat(second, wechat).headers["location"].startswith("/login")
    assert sign_in_by_sms(first, BOB_PHONE).headers["location"] == "/orders"
    done = sign_in_by_sms(second, ALICE_PHONE)
    assert done.status_code == 303
    assert done.headers["location"].startswith("/account?notice=wechat_taken")
    page = soup(second.get(done.headers["location"]))
    assert "already linked to another phone number, so it was not linked to yours" in text(page.select_one(".notice"))
    assert "not linked: it belongs to another phone number" in texts(page, ".history li")[0]
    assert texts(page, ".link-row") == []
    [binding] = bindings(db)
    with db.read() as session:
        from core.models import Customer

        owner = session.get(Customer, binding.customer_id)
    assert owner.phone == normalize_phone(BOB_PHONE)
    # Alice is signed in all the same, with her own orders.
    assert cast.alice_paid.ref in second.get("/orders").text


def test_shopper_removes_the_link(cast, browser, wechat, db, alice, bob):
    link(db, ALICE_PHONE)
    page = soup(alice.get("/account"))
    assert len(page.select(".link-row")) == 1
    binding_id = bindings(db)[0].id

    bobs = bob.post("/account/wechat/unlink", data={"binding": str(binding_id)},
                    headers={"x-csrftoken": bob.cookies.get("csrftoken", "")}, follow_redirects=False)
    assert bobs.status_code == 404
    assert len(bindings(db)) == 1

    no_csrf = alice.post("/account/wechat/unlink", data={"binding": str(binding_id)}, follow_redirects=False)
    assert no_csrf.status_code == 403
    assert len(bindings(db)) == 1

    done = submit(alice, page, "form[action='/account/wechat/unlink']")
    assert done.status_code == 303 and done.headers["location"] == "/account?notice=unlinked"
    assert bindings(db) == []
    after = soup(alice.get(done.headers["location"]))
    assert "The WeChat link was removed" in text(after.select_one(".notice"))
    assert texts(after, ".link-row") == []
    assert f"WeChat account …{DEVICE_OPENID[-6:]} removed" in texts(after, ".history li")[0]
    with db.read() as session:
        actions = [e.action for e in session.exec(select(WechatBindingEvent).order_by(WechatBindingEvent.id))]
    assert actions == ["linked", "unlinked"]

    # Next time in WeChat, the code is asked for again.
    stranger = browser()
    assert through_wechat(stranger, wechat).headers["location"].startswith("/login")


def test_removing_the_link_with_htmx_returns_the_section(cast, browser, wechat, db, alice):
    link(db, ALICE_PHONE)
    page = soup(alice.get("/account"))
    fragment = submit(alice, page, "form[action='/account/wechat/unlink']", htmx=True)
    assert fragment.status_code == 200
    part = soup(fragment)
    assert part.find("html") is None
    assert "The WeChat link was removed" in text(part.select_one(".notice"))


def test_outside_wechat_nothing_changes(cast, browser, wechat, db):
    shopper = browser()
    shopper.headers["user-agent"] = PHONE_UA
    answer = shopper.get("/orders", follow_redirects=False)
    assert answer.headers["location"] == "/login?next=%2Forders"
    login = soup(shopper.get("/login?next=/orders"))
    assert login.select(".notice") == []
    with db.read() as session:
        assert session.exec(select(WechatLogin)).all() == []
    # The authorisation start refuses to send a browser outside WeChat there.
    assert shopper.get("/wechat/authorize", follow_redirects=False).headers["location"] == "/login?next=%2Forders"


def test_unconfigured_nothing_changes_inside_wechat(cast, db):
    from app import create_app

    with wechat_settings(None), TestClient(app=create_app(get_settings(), db), base_url="http://127.0.0.1") as shopper:
        shopper.headers["user-agent"] = WECHAT_UA
        shopper.get("/lang/en")
        answer = shopper.get("/orders", follow_redirects=False)
        assert answer.headers["location"] == "/login?next=%2Forders"
        assert shopper.get("/wechat/callback", params={"code": "x", "state": "y"}).status_code == 404
        assert sign_in_by_sms(shopper, ALICE_PHONE).headers["location"] == "/orders"
        orders = soup(shopper.get("/orders"))
        assert [a.get_text(strip=True) for a in orders.select(".topnav a")] == ["My orders"]
    assert bindings(db) == []


def test_wechat_outage_falls_back_to_the_sms_sign_in(cast, browser, wechat, db):
    httpx.post(f"{wechat}/_sim/fail", params={"endpoint": "oauth", "count": 1})
    shopper = browser()
    answer = through_wechat(shopper, wechat)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Forders&notice=wechat_unavailable"
    login = soup(shopper.get(answer.headers["location"]))
    assert "WeChat sign-in is not available at the moment" in text(login.select_one(".notice"))
    assert session_count(db) == 0
    assert sign_in_by_sms(shopper, ALICE_PHONE).headers["location"] == "/orders"
    assert bindings(db) == []  # no openid was learnt, so nothing to link


def test_code_wechat_refuses_gives_a_clear_page(cast, browser, wechat, db):
    shopper = browser()
    url = callback_url(shopper, wechat)
    query = parse_qs(urlsplit(url).query)
    answer = shopper.get("/wechat/callback", params={"code": "not-a-real-code", "state": query["state"][0]},
                         follow_redirects=False)
    assert answer.status_code == 400
    assert text(soup(answer).select_one("h1")) == "Sign-in not completed"
    assert session_count(db) == 0 and bindings(db) == []


def test_expired_state_is_refused(db):
    from datetime import timedelta

    from core.models import utcnow

    state = wechat_service.start_login(db, "/orders")
    with pytest.raises(wechat_service.LoginRefused):
        wechat_service.use_state(db, state=state, browser_state=state, now=utcnow() + timedelta(minutes=11))


def test_page_fragment_in_wechat_redirects_through_wechat(cast, browser, wechat):
    shopper = browser()
    shopper.headers["user-agent"] = WECHAT_UA
    answer = shopper.get("/orders", headers=HTMX)
    assert answer.headers["hx-redirect"] == "/wechat/authorize?next=%2Forders"
