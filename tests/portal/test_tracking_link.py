"""Tracking links from SMS and QR codes (/t/<token>): anyone holding the link
sees the parcel's progress but not who lives where; forged, expired and
revoked links are a plain 404; verifying the phone unlocks the full order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from core.config import get_settings
from core.errors import NotFound
from core.services.tracking import links as tracking_links
from portal.tracking import qr_svg
from tests.factories import ALICE_PHONE, BOB_PHONE
from tests.portal.pages import sign_in_by_sms, soup, text, texts

PERSONAL = ["张三", "文三路", "100 号", "301 室", "310012", "13800138000"]


def link_for(order, **kwargs) -> str:  # noqa: ANN001
    options = {"valid_for": timedelta(days=30), **kwargs}
    return "/t/" + tracking_links.make_token(order, secret=get_settings().secret_key, **options)


def facts(page) -> dict[str, str]:  # noqa: ANN001
    return {text(term): text(term.find_next_sibling("dd")) for term in page.select(".summary dt")}


def every_attribute_value(page) -> list[str]:  # noqa: ANN001
    return [str(value) for tag in page.find_all(True) for value in tag.attrs.values()]


def test_link_shows_status_and_timeline_without_sign_in(stranger, cast):
    response = stranger.get(link_for(cast.alice_shipped))
    assert response.status_code == 200
    page = soup(response)
    assert text(page.h1) == "Parcel tracking"
    assert text(page.select_one(".summary .status")) == "Shipped"
    shown = facts(page)
    assert shown["Order"] == cast.alice_shipped.ref
    assert shown["Recipient"] == "张* · 138****8000"
    assert shown["Destination"] == "浙江省杭州市西湖区"
    assert texts(page, ".timeline .event .context") == [
        "【杭州市】快件派送中，请保持电话畅通", "【杭州市】快件已到达 杭州转运中心", "【杭州市】中通快递 已收取快件"]


def test_link_never_shows_the_street_name_or_full_phone(stranger, cast):
    page = soup(stranger.get(link_for(cast.alice_shipped)))
    visible = text(page)
    hidden = " ".join(every_attribute_value(page))
    for personal in PERSONAL:
        assert personal not in visible, personal
        assert personal not in hidden, personal


def test_link_of_an_unshipped_order_says_it_has_not_shipped(stranger, cast):
    page = soup(stranger.get(link_for(cast.alice_paid)))
    assert text(page.select_one(".summary .status")) == "Paid, to ship"
    assert "This order has not shipped yet." in text(page.main)


def test_token_carries_no_personal_data(cast):
    token = link_for(cast.alice_shipped).removeprefix("/t/")
    assert token.startswith(cast.alice_shipped.ref + ".")
    for personal in ["13800138000", "8613800138000", "138****8000", "张"]:
        assert personal not in token


def tampered_links(cast) -> list[str]:  # noqa: ANN001
    good = link_for(cast.alice_shipped)
    ref, version, expires, signature = good.removeprefix("/t/").split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [
        f"/t/{ref}.{version}.{expires}.{flipped}",
        f"/t/{cast.bob_shipped.ref}.{version}.{expires}.{signature}",
        f"/t/{ref}.{int(version) + 1}.{expires}.{signature}",
        f"/t/{ref}.{version}.{int(expires, 16) + 86400:x}.{signature}",
        f"/t/{ref}.{version}.{expires}",
        "/t/nonsense",
    ]


def test_tampered_links_are_not_found(stranger, cast):
    for link in tampered_links(cast):
        for url in (link, link + "/qr.svg"):
            response = stranger.get(url)
            assert response.status_code == 404, url
            assert text(soup(response).h1) == "Page not found"


def test_expired_link_is_not_found(stranger, cast):
    issued = datetime.now(UTC) - timedelta(days=31)
    response = stranger.get(link_for(cast.alice_shipped, now=issued))
    assert response.status_code == 404
    assert "the link has expired" in text(soup(response).main)
    fresh = link_for(cast.alice_shipped, now=datetime.now(UTC) - timedelta(days=29))
    assert stranger.get(fresh).status_code == 200


def test_revoked_link_is_not_found(stranger, db, cast):
    old = link_for(cast.alice_shipped)
    assert stranger.get(old).status_code == 200
    tracking_links.revoke(db, cast.alice_shipped.ref)
    assert stranger.get(old).status_code == 404
    assert stranger.get(old + "/qr.svg").status_code == 404
    reissued = link_for(cast.reload(db, cast.alice_shipped))
    assert stranger.get(reissued).status_code == 200


def test_each_revocation_bumps_the_link_version(db, cast):
    before = cast.reload(db, cast.alice_shipped).link_version
    assert tracking_links.revoke(db, cast.alice_shipped.ref) == before + 1
    assert tracking_links.revoke(db, cast.alice_shipped.ref) == before + 2
    assert cast.reload(db, cast.alice_shipped).link_version == before + 2


def test_revoking_the_links_of_an_unknown_order_is_not_found(db):
    with pytest.raises(NotFound):
        tracking_links.revoke(db, "ODNOSUCHORDER")


def test_qr_code_is_an_svg_of_the_public_link(stranger, cast):
    link = link_for(cast.alice_shipped)
    response = stranger.get(link + "/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    assert root.tag.endswith("svg")
    assert response.content == qr_svg(get_settings().public_base_url + link)


def test_verify_button_leads_to_sign_in_and_then_the_full_order(stranger, cast):
    ref = cast.alice_shipped.ref
    page = soup(stranger.get(link_for(cast.alice_shipped)))
    button = page.select_one(".summary a.button")
    assert text(button) == "Verify your phone for full details and changes"
    followed = stranger.get(button["href"], follow_redirects=False)
    assert followed.status_code == 303
    assert followed.headers["location"] == f"/login?next=%2Forders%2F{ref}"
    login = soup(stranger.get(followed.headers["location"]))
    assert login.select_one("form[action='/login'] input[name=next]")["value"] == f"/orders/{ref}"
    signed_in = sign_in_by_sms(stranger, ALICE_PHONE, next_path=f"/orders/{ref}")
    assert signed_in.headers["location"] == f"/orders/{ref}"
    full = soup(stranger.get(signed_in.headers["location"]))
    assert text(full.h1) == f"Order {ref}"
    assert "浙江省杭州市西湖区 文三路 100 号 2 幢 301 室 · 310012" in texts(full, "section.card p")


def test_someone_else_who_verifies_still_cannot_open_the_order(stranger, cast):
    ref = cast.alice_shipped.ref
    assert stranger.get(link_for(cast.alice_shipped)).status_code == 200
    signed_in = sign_in_by_sms(stranger, BOB_PHONE, next_path=f"/orders/{ref}")
    response = stranger.get(signed_in.headers["location"])
    assert response.status_code == 404
    assert "文三路" not in text(soup(response))
