"""Editing triage rules: who may, what a preview shows (and does not save), how mistakes come back."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from core.models import AuditEntry, OrderTag, TriageRule
from core.services.triage.engine import scan
from tests.admin.conftest import form_post, soup
from tests.factories import address
from tests.triage_factories import paid_order

URL = "/admin/triage/rules/address_proxy_words"


def rule(db, code: str = "address_proxy_words") -> TriageRule:
    with db.read() as session:
        return session.exec(select(TriageRule).where(TriageRule.code == code)).one()


def form_of(page) -> dict[str, str]:
    """What the browser would submit from the rule form as it is shown."""
    form = page.select_one("form.rule-form")
    values = {field["name"]: field.get("value", "") for field in form.select("input[name]")
              if field.get("type") != "checkbox" or field.has_attr("checked")}
    values.update({field["name"]: field.get_text() for field in form.select("textarea[name]")})
    values.update({field["name"]: field.select_one("option[selected]")["value"] for field in form.select("select")})
    return values


@pytest.fixture
def streets(db, hz):
    at = datetime.now(UTC) - timedelta(hours=2)
    made = {street: paid_order(db, at=at, warehouse_id=hz.id, address=address(street=street))
            for street in ("文三路 9 号物业代收", "文三路 100 号物业前台", "古墩路 8 号物业管理处", "古墩路 8 号门卫室")}
    scan(db)
    return made


@pytest.mark.parametrize("role", ["support", "warehouse"])
def test_roles_without_manage_rules_get_403_and_change_nothing(client, db, sign_in, role):
    sign_in(role)
    before = rule(db)
    assert client.get("/admin/triage/rules").status_code == 403
    assert client.get(URL).status_code == 403
    token = soup(client.get("/admin/triage")).select_one("input[name=_csrf_token]")["value"]
    for action in (URL, f"{URL}/preview"):
        response = client.post(action, data={"words": "物业", "sla_hours": "1", "enabled": "1",
                                             "queue": "finance", "_csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403
        assert soup(response).h1.get_text(strip=True) == "无权操作"
    assert rule(db) == before


def test_compliance_edits_a_word_list_and_the_change_is_audited(client, db, sign_in):
    officer = sign_in("compliance")
    page = soup(client.get(URL))
    assert page.h1.get_text(strip=True) == "代收点或快递柜地址"
    values = form_of(page)
    assert values["words"].split("\n") == ["代收", "暂存", "代签", "驿站", "快递柜", "丰巢"]
    response = form_post(client, URL, URL, {**values, "words": "驿站\n物业，快递柜\n驿站", "sla_hours": "6"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/triage/rules?saved=address_proxy_words"
    saved = rule(db)
    params = json.loads(saved.params)
    assert params["words"] == ["驿站", "物业", "快递柜"] and params["sla_hours"] == 6
    assert saved.updated_by == officer.email
    with db.read() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "triage_rule_update")).one()
    detail = json.loads(entry.detail)
    assert detail["rule"] == "address_proxy_words" and detail["before"]["params"]["sla_hours"] == 8
    assert detail["after"]["params"]["words"] == ["驿站", "物业", "快递柜"]
    listing = soup(client.get(response.headers["location"]))
    assert listing.select_one("p.notice").get_text(strip=True) == "规则“代收点或快递柜地址”已保存，下一次扫描起生效。"


def _everything(db) -> dict:
    with db.read() as session:
        return {t.name: [tuple(r) for r in session.execute(text(f'SELECT * FROM "{t.name}"')).all()]
                for t in SQLModel.metadata.sorted_tables if t.name not in ("staff_session",)}


def test_preview_lists_the_orders_the_edit_would_tag_and_saves_nothing(client, db, sign_in, streets):
    sign_in("supervisor")
    values = form_of(soup(client.get(URL)))
    before = _everything(db)

    response = form_post(client, URL, f"{URL}/preview", {**values, "words": "物业"})

    assert response.status_code == 200
    assert _everything(db) == before
    page = soup(response)
    box = page.select_one("section.rule-preview")
    assert box.h2.get_text(strip=True) == "预览：尚未保存任何内容"
    assert box.select_one(".preview-summary").get_text(" ", strip=True) == (
        "按这些设置有 3 个订单符合（按已保存的设置：1 个）。 扫描将新建 2 条异常。")
    listed = [tr.select("td")[0].get_text(strip=True) for tr in box.select("table.preview-orders tbody tr")]
    assert sorted(listed) == sorted([streets["文三路 100 号物业前台"].ref, streets["古墩路 8 号物业管理处"].ref])
    assert page.select_one("textarea[name=words]").get_text() == "物业"  # the edit is kept for saving
    assert json.loads(rule(db).params)["words"][0] == "代收"


def test_preview_from_htmx_swaps_just_the_editor(client, db, sign_in, streets):
    sign_in("compliance")
    values = form_of(soup(client.get(URL)))
    response = form_post(client, URL, f"{URL}/preview", {**values, "enabled": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.text
    editor = soup(response).select_one("div#rule-editor")
    assert editor is not None and editor.select_one("input[name=enabled]").has_attr("checked") is False
    assert editor.select_one(".preview-summary").get_text(" ", strip=True).endswith("扫描将新建 0 条异常。")


def test_mistakes_come_back_beside_their_fields_with_the_values_kept(client, db, sign_in):
    sign_in("compliance")
    values = form_of(soup(client.get(URL)))
    before = rule(db)
    bad = {**values, "sla_hours": "abc", "words": " \n ", "reply": "您好 {name}，订单 {ref}"}
    for action in (URL, f"{URL}/preview"):
        response = form_post(client, URL, action, bad)
        assert response.status_code == 422
        page = soup(response)
        errors = {p["id"]: p.get_text(strip=True) for p in page.select("p.field-error")}
        assert errors == {"e-sla_hours": "请输入整数。", "e-words": "请至少填写一项，或停用这条规则。",
                          "e-reply": "未知的占位符：{name}"}
        assert page.select_one("#p-sla_hours")["value"] == "abc"
        assert page.select_one("#p-sla_hours")["aria-describedby"] == "e-sla_hours"
        assert page.select_one("section.rule-preview") is None
    assert rule(db) == before


def test_out_of_range_threshold_is_refused(client, db, sign_in):
    sign_in("compliance")
    url = "/admin/triage/rules/logistics_stalled"
    values = form_of(soup(client.get(url)))
    response = form_post(client, url, url, {**values, "hours": "0"})
    assert response.status_code == 422
    assert soup(response).select_one("#e-hours").get_text(strip=True) == "请输入 1 到 720 之间的数字。"


def test_saving_over_someone_elses_change_is_a_conflict(client, db, sign_in):
    sign_in("compliance")
    values = form_of(soup(client.get(URL)))
    with db.write() as session:
        other = session.exec(select(TriageRule).where(TriageRule.code == "address_proxy_words")).one()
        other.updated_at, other.updated_by = datetime.now(UTC), "supervisor@example.com"
        session.add(other)
    response = form_post(client, URL, URL, {**values, "sla_hours": "2"})
    assert response.status_code == 409
    assert soup(response).select_one("div.notice.warn p").get_text(strip=True).startswith(
        "您编辑期间 supervisor@example.com 修改了这条规则")
    assert json.loads(rule(db).params)["sla_hours"] == 8


def test_a_saved_edit_takes_effect_at_the_next_scan(client, db, sign_in, streets):
    sign_in("compliance")
    values = form_of(soup(client.get(URL)))
    assert form_post(client, URL, URL, {**values, "words": "物业", "queue": "warehouse"}).status_code == 303
    result = scan(db)
    assert result.opened == 2
    with db.read() as session:
        new = session.exec(select(OrderTag).where(OrderTag.queue == "warehouse")).all()
    assert len(new) == 2


def test_turning_a_rule_off(client, db, sign_in, hz):
    sign_in("compliance")
    paid_order(db, at=datetime.now(UTC) - timedelta(hours=2), warehouse_id=hz.id,
               address=address(street="文三路 100 号菜鸟驿站"))
    values = form_of(soup(client.get(URL)))
    values.pop("enabled")
    assert form_post(client, URL, URL, values).status_code == 303
    assert rule(db).enabled is False
    assert scan(db).opened == 0
    row = soup(client.get("/admin/triage/rules")).select_one("tr.off")
    assert "代收点或快递柜地址" in row.get_text() and "停用" in row.get_text()
