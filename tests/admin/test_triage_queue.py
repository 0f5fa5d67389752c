"""The triage queues as staff use them: ordering, SLA timers, scoping, resolving, assigning, replying."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.models import AuditEntry, OrderHistory, OrderTag, TriageRule
from tests.admin.conftest import form_post, soup
from tests.factories import address
from tests.triage_factories import add_tag, add_warehouse, paid_order, ship

H = timedelta(hours=1)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def orders(db, hz):
    """Three paid orders at HZ and one at GZ."""
    gz = add_warehouse(db, code="GZ", name="广州仓")
    at = now() - 30 * H
    return {name: paid_order(db, at=at, warehouse_id=warehouse.id)
            for name, warehouse in (("a", hz), ("b", hz), ("c", hz), ("gz", gz))}


def cs_tag(db, order, *, opened_ago: timedelta, sla_hours: int, rule_code: str = "address_no_district", **kw):
    return add_tag(db, order, rule_code=rule_code, tag="address_risk", queue="customer_service",
                   opened_at=now() - opened_ago, sla_hours=sla_hours, **kw)


def queue_rows(response) -> list[dict]:
    rows = []
    for tr in soup(response).select("table.triage-table tbody tr"):
        cells = tr.find_all("td")
        if len(cells) < 6:
            continue
        rows.append({"ref": cells[1].a.get_text(strip=True), "sla": cells[0].time.get_text(strip=True),
                     "overdue": "overdue" in (tr.get("class") or []), "exception": cells[2].get_text(" ", strip=True),
                     "why": cells[3].get_text(strip=True), "owner": cells[5].get_text(strip=True)})
    return rows


def test_queue_shows_the_oldest_sla_breach_first_with_its_timer(client, db, sign_in, orders):
    cs_tag(db, orders["b"], opened_ago=10 * H, sla_hours=8)                  # 2 h past its SLA
    cs_tag(db, orders["a"], opened_ago=20 * H, sla_hours=8)                  # 12 h past
    cs_tag(db, orders["c"], opened_ago=H, sla_hours=8)                       # 7 h left
    cs_tag(db, orders["c"], opened_ago=H, sla_hours=4, rule_code="address_po_box")  # 3 h left
    cs_tag(db, orders["a"], opened_ago=30 * H, sla_hours=8, rule_code="address_phone_not_mobile",
           resolved_after=H)                                                  # resolved: not listed
    add_tag(db, orders["a"], rule_code="payment_refunded", tag="payment_anomaly", queue="finance",
            opened_at=now() - 50 * H)                                         # another team's queue
    sign_in("support")

    response = client.get("/admin/triage")

    assert response.status_code == 200
    rows = queue_rows(response)
    assert [r["ref"] for r in rows] == [orders["a"].ref, orders["b"].ref, orders["c"].ref, orders["c"].ref]
    assert [r["overdue"] for r in rows] == [True, True, False, False]
    assert rows[0]["sla"].startswith("已超时 12 小时") and rows[1]["sla"].startswith("已超时 2 小时")
    assert rows[2]["sla"].startswith("剩余 2 小时") or rows[2]["sla"].startswith("剩余 3 小时")
    assert rows[3]["sla"].startswith("剩余 6 小时") or rows[3]["sla"].startswith("剩余 7 小时")
    assert rows[0]["why"] == "地址缺少区/县。" and rows[0]["owner"] == "未分配"
    page = soup(response)
    tiles = {a.select_one("span").get_text(strip=True): a.strong.get_text(strip=True) for a in page.select("a.tile")}
    assert tiles == {"客服": "4", "仓库": "0", "财务": "1", "合规": "0"}


def test_each_role_starts_on_its_own_queue(client, sign_in):
    for role, heading in (("support", "客服"), ("warehouse", "仓库"), ("compliance", "合规"), ("supervisor", "客服")):
        sign_in(role)
        title = soup(client.get("/admin/triage")).select_one("h2.queue-title").get_text(strip=True)
        assert title.startswith(heading), role


def test_filter_returns_just_the_fragment_for_htmx(client, db, sign_in, orders):
    cs_tag(db, orders["a"], opened_ago=H, sla_hours=8)
    sign_in("support")
    response = client.get("/admin/triage", params={"queue": "customer_service", "tag": "stock_gap"},
                          headers={"HX-Request": "true"})
    vary = [value.strip() for value in response.headers["vary"].split(",")]
    assert response.status_code == 200 and "HX-Request" in vary
    assert "<html" not in response.text and soup(response).select_one("nav.sidebar") is None
    assert queue_rows(response) == []
    assert "此队列没有待处理的异常。" in soup(response).select_one("table").get_text()


def test_warehouse_staff_see_only_their_warehouse(client, db, sign_in, orders):
    mine = add_tag(db, orders["a"], rule_code="stock_short", tag="stock_gap", queue="warehouse", opened_at=now())
    theirs = add_tag(db, orders["gz"], rule_code="stock_short", tag="stock_gap", queue="warehouse", opened_at=now())
    sign_in("warehouse")
    assert [r["ref"] for r in queue_rows(client.get("/admin/triage?queue=warehouse"))] == [orders["a"].ref]
    assert client.get(f"/admin/triage/tags/{mine.id}").status_code == 200
    assert client.get(f"/admin/triage/tags/{theirs.id}").status_code == 404
    response = client.post(f"/admin/triage/tags/{theirs.id}/resolve",
                           data={"resolution": "x", "_csrf_token": _token(client, "/admin/triage")})
    assert response.status_code == 404
    with db.read() as session:
        assert session.get(OrderTag, theirs.id).resolved_at is None


def test_resolving_needs_a_resolution_written_beside_the_field(client, db, sign_in, orders):
    tag = cs_tag(db, orders["a"], opened_ago=H, sla_hours=8)
    sign_in("support")
    url = f"/admin/triage/tags/{tag.id}"
    response = form_post(client, url, f"{url}/resolve", {"resolution": "   "})
    assert response.status_code == 422
    page = soup(response)
    field = page.select_one("textarea#resolution")
    assert field["aria-invalid"] == "true"
    assert page.select_one(f"#{field['aria-describedby']}").get_text(strip=True) == "请写明异常是如何处理的。"
    with db.read() as session:
        assert session.get(OrderTag, tag.id).resolved_at is None


def test_resolving_records_who_and_how_and_leaves_the_queue(client, db, sign_in, orders):
    tag = cs_tag(db, orders["a"], opened_ago=H, sla_hours=8)
    agent = sign_in("support")
    url = f"/admin/triage/tags/{tag.id}"
    response = form_post(client, url, f"{url}/resolve", {"resolution": "已电话联系客户补全区县：西湖区"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/triage?queue=customer_service"
    with db.read() as session:
        stored = session.get(OrderTag, tag.id)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "triage_resolve")).one()
    assert stored.resolved_by == agent.email and stored.resolution == "已电话联系客户补全区县：西湖区"
    assert stored.resolved_at is not None
    assert entry.order_ref == orders["a"].ref and entry.actor == agent.email
    assert json.loads(entry.detail)["resolution"] == "已电话联系客户补全区县：西湖区"
    assert queue_rows(client.get("/admin/triage")) == []
    shown = soup(client.get(url)).select_one("p.resolution").get_text(" ", strip=True)
    assert shown.startswith("由 support@example.com 于") and "已电话联系客户补全区县：西湖区" in shown
    assert soup(client.get(url)).select_one("textarea#resolution") is None  # nothing left to resolve
    again = client.post(f"{url}/resolve", data={"resolution": "再处理一次", "_csrf_token": _token(client, url)},
                        follow_redirects=False)
    assert again.status_code == 409
    assert soup(again).select_one("p.notice.warn").get_text(strip=True) == "support@example.com 已处理了这条异常。"


def _token(client, url: str) -> str:
    return soup(client.get(url)).select_one("input[name=_csrf_token]")["value"]


def test_assign_to_myself_and_filter_my_tags(client, db, sign_in, orders):
    first = cs_tag(db, orders["a"], opened_ago=H, sla_hours=8)
    cs_tag(db, orders["b"], opened_ago=H, sla_hours=8)
    agent = sign_in("support")
    url = f"/admin/triage/tags/{first.id}"
    response = form_post(client, url, f"{url}/assign", {"owner": "me"})
    assert response.status_code == 303
    assert soup(client.get(url)).select_one("p.owner").get_text(strip=True) == agent.email
    mine = queue_rows(client.get("/admin/triage", params={"queue": "customer_service", "mine": "1"}))
    assert [(r["ref"], r["owner"]) for r in mine] == [(orders["a"].ref, agent.email)]
    bad = form_post(client, url, f"{url}/assign", {"owner": "99999"})
    assert bad.status_code == 422
    assert soup(bad).select_one("#owner-error").get_text(strip=True) == "请选择一位在职员工。"
    with db.read() as session:
        assert session.get(OrderTag, first.id).owner_id == agent.id
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "triage_assign")).one()


def _use_reply(db, code: str, template: str) -> None:
    with db.write() as session:
        rule = session.exec(select(TriageRule).where(TriageRule.code == code)).one()
        rule.params = json.dumps({**json.loads(rule.params), "reply": template}, ensure_ascii=False)
        session.add(rule)


def test_canned_reply_is_filled_in_and_ready_to_copy_without_javascript(client, db, sign_in, orders):
    ship(db, orders["a"].ref, at=now() - 20 * H, carrier="SF")
    tag = add_tag(db, orders["a"], rule_code="logistics_stalled", tag="logistics_anomaly",
                  queue="customer_service", opened_at=now())
    _use_reply(db, "logistics_stalled", "{recipient}您好，订单 {ref}（{carrier} {tracking_no}）应于"
                                        "{promised_delivery_by}前送达。{ref.__class__} {unknown}")
    sign_in("support")
    page = soup(client.get(f"/admin/triage/tags/{tag.id}"))
    box = page.select_one("textarea#reply-text")
    assert box.has_attr("readonly") and not box.has_attr("disabled")
    text = box.get_text()
    tracking = soup(client.get(f"/admin/triage/tags/{tag.id}")).select_one("dd.mono").get_text()
    assert text.startswith(f"张*您好，订单 {orders['a'].ref}（顺丰速运 SF")
    assert tracking.split()[1] in text
    assert "{ref.__class__} {unknown}" in text  # not str.format: no attribute access, unknown names kept
    button = page.select_one("button[data-copy=reply-text]")
    assert button.has_attr("hidden")  # shown by static/js/admin.js; without it the text is selectable
    assert page.select_one("script[src^='/static/js/admin.js']") is not None


def test_a_role_with_full_access_reveals_the_name_on_purpose(client, db, sign_in, orders):
    tag = cs_tag(db, orders["a"], opened_ago=H, sla_hours=8)
    _use_reply(db, "address_no_district", "{recipient}您好")
    sign_in("compliance")
    assert soup(client.get(f"/admin/triage/tags/{tag.id}")).select_one("#reply-text").get_text() == "张*您好"
    page = soup(client.get(f"/admin/triage/tags/{tag.id}"))
    token = page.select_one("form[action$='/reveal'] input[name=_csrf_token]")["value"]
    revealed = soup(client.post(f"/admin/triage/tags/{tag.id}/reveal", data={"_csrf_token": token}))
    assert revealed.select_one("#reply-text").get_text() == "张三您好"
    with db.read() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "reveal")).one()
    assert entry.order_ref == orders["a"].ref and json.loads(entry.detail) == {"tag": tag.id}
    sign_in("support")
    assert soup(client.get(f"/admin/triage/tags/{tag.id}")).select_one("form[action$='/reveal']") is None
    assert client.post(f"/admin/triage/tags/{tag.id}/reveal", data={"_csrf_token": token}).status_code == 403


def test_send_to_customer_records_the_reply_on_the_order_and_says_no_sms_went_out(client, db, sign_in, orders):
    tag = cs_tag(db, orders["a"], opened_ago=H, sla_hours=8)
    _use_reply(db, "address_no_district", "{recipient}您好，订单 {ref} 的地址缺少区县。")
    agent = sign_in("support")
    url = f"/admin/triage/tags/{tag.id}"
    assert "短信" in soup(client.get(url)).select_one("p.sms-note").get_text()
    response = form_post(client, url, f"{url}/reply", {})
    assert response.status_code == 303 and response.headers["location"] == f"{url}?replied=1"
    notice = soup(client.get(response.headers["location"])).select_one(".canned-reply p.notice").get_text()
    assert notice == "回复已记录在订单历史中。没有发送短信。"
    with db.read() as session:
        entry = session.exec(select(OrderHistory).where(OrderHistory.kind == "reply")).one()
        audit_entry = session.exec(select(AuditEntry).where(AuditEntry.action == "triage_reply")).one()
    assert entry.order_id == orders["a"].id and entry.actor == agent.email and entry.via == "admin"
    assert json.loads(entry.detail) == {"tag": tag.id, "rule": "address_no_district", "sent_by_sms": False,
                                        "text": f"张三您好，订单 {orders['a'].ref} 的地址缺少区县。"}
    assert audit_entry.order_ref == orders["a"].ref
    history = soup(client.get(f"/admin/orders/{orders['a'].ref}")).select_one("ol.history").get_text()
    assert "已记录客服回复" in history


def test_order_page_lists_its_exceptions(client, db, sign_in, orders):
    tag = cs_tag(db, orders["a"], opened_ago=H, sla_hours=8)
    cs_tag(db, orders["a"], opened_ago=3 * H, sla_hours=8, rule_code="address_po_box", resolved_after=H)
    sign_in("support")
    card = soup(client.get(f"/admin/orders/{orders['a'].ref}")).select_one("section.order-exceptions")
    lines = [p.get_text(" ", strip=True) for p in card.select("p")]
    assert lines == ["地址风险: 地址缺少区/县 · 客服", "地址风险: 邮政信箱且快递不投递 · 已处理"]
    assert card.select_one("a")["href"] == f"/admin/triage/tags/{tag.id}"


def test_navigation_follows_the_role(client, sign_in):
    sign_in("support")
    links = {a.get_text(strip=True) for a in soup(client.get("/admin/")).select("nav.sidebar li a")}
    assert "异常处理" in links and "异常规则" not in links and "每周趋势" not in links
    sign_in("compliance")
    links = {a.get_text(strip=True) for a in soup(client.get("/admin/")).select("nav.sidebar li a")}
    assert {"异常处理", "异常规则", "每周趋势"} <= links


def test_street_with_a_proxy_word_reaches_the_queue_through_a_scan(client, db, sign_in, hz):
    from core.services.triage.engine import scan

    order = paid_order(db, at=now() - 2 * H, warehouse_id=hz.id, address=address(street="文三路 100 号菜鸟驿站"))
    scan(db)
    sign_in("support")
    [row] = queue_rows(client.get("/admin/triage"))
    assert (row["ref"], row["why"]) == (order.ref, "详细地址是代收点或快递柜（“驿站”）。")
    assert row["exception"] == "地址风险 代收点或快递柜地址"
