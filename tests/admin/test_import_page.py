"""Staff who may import upload an export, see the counts and every refused row; others may not."""

import csv
import io
import json

import pytest
from sqlmodel import select

from core.models import AuditEntry, ImportMapping, ImportRun, Order
from tests.admin.conftest import soup

HEADER = ["订单编号", "买家实付金额", "买家应付货款", "买家应付邮费", "订单状态", "收货人姓名", "收货地址", "联系手机",
          "订单创建时间", "订单付款时间", "宝贝标题", "宝贝总数量"]


def row(no, phone="13800138000", qty="1"):
    return [no, "10.00", "10.00", "0", "买家已付款，等待卖家发货", "张三", "浙江省 杭州市 西湖区 文三路100号", phone,
            "2026-11-11 00:01:00", "2026-11-11 00:02:00", "龙井茶", qty]


def csv_bytes(rows, encoding="utf-8-sig"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def upload(client, content, *, name="export.csv", mapping="taobao", channel="taobao", dry_run=False, token=None,
           **kwargs):
    data = {"_csrf_token": client.csrf if token is None else token, "mapping": mapping, "channel": channel}
    if dry_run:
        data["dry_run"] = "1"
    return client.post("/admin/imports", data=data, files={"file": (name, content, "text/csv")}, **kwargs)


def test_the_page_shows_the_form_and_the_recent_imports(as_staff):
    page = as_staff("supervisor").get("/admin/imports")
    assert page.status_code == 200
    html = soup(page)
    assert html.select_one("form[enctype='multipart/form-data'] input[type=file][name=file]") is not None
    assert [o["value"] for o in html.select("select[name=mapping] option")][:5] == [
        "taobao", "jd", "pinduoduo", "douyin", "shopify"]
    assert "No imports yet." in html.get_text() or "暂无导入记录" in html.get_text()


def test_an_upload_shows_the_counts_and_each_refused_row(as_staff, db):
    client = as_staff("admin")
    response = upload(client, csv_bytes([row("A1"), row("A2", phone="12"), row("A3", qty="x")]),
                      follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    html = soup(page)
    counts = {dd["data-count"]: dd.get_text() for dd in html.select("dd[data-count]")}
    assert counts == {"new": "1", "updated": "0", "unchanged": "0", "rejected": "2"}
    rejected = [[td.get_text() for td in tr.select("td")] for tr in html.select("table.rejections tbody tr")]
    assert [(line, column) for line, column, _ in rejected] == [("3", "联系手机"), ("4", "宝贝总数量")]
    assert all(reason for _, _, reason in rejected)
    with db.read() as session:
        assert [o.channel_order_no for o in session.exec(select(Order))] == ["A1"]
        run = session.exec(select(ImportRun)).one()
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "import_orders")).one()
    assert (run.actor, run.via, run.new, run.rejected) == ("admin@shop.test", "admin", 1, 2)
    assert json.loads(entry.detail)["run"] == run.id


def test_a_wrong_file_type_is_refused_beside_the_file_field(as_staff, db):
    response = upload(as_staff("admin"), b"%PDF-1.4", name="orders.pdf")
    assert response.status_code == 422
    error = soup(response).select_one("#e-file")
    assert error is not None and error.get_text().strip()
    assert soup(response).select_one("#i-file")["aria-invalid"] == "true"
    with db.read() as session:
        assert session.exec(select(ImportRun)).all() == []


def test_a_file_of_another_layout_is_refused_beside_the_file_field(as_staff):
    response = upload(as_staff("admin"), csv_bytes([row("A1")]), mapping="jd", channel="jd")
    assert response.status_code == 422
    assert "订单号" in soup(response).select_one("#e-file").get_text()


def test_a_gbk_upload_with_htmx_returns_the_form_fragment_for_a_dry_run(as_staff, db):
    response = upload(as_staff("admin"), csv_bytes([row("G1"), row("G1")], encoding="gbk"), dry_run=True,
                      headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = soup(response)
    assert html.select_one("html") is None and html.select_one("#import-form") is not None
    counts = {dd["data-count"]: dd.get_text() for dd in html.select("dd[data-count]")}
    assert counts == {"new": "1", "updated": "0", "unchanged": "1", "rejected": "0"}
    with db.read() as session:
        assert session.exec(select(Order)).all() == []


@pytest.mark.parametrize("role", ["support", "warehouse", "compliance"])
def test_roles_without_the_permission_get_403_and_import_nothing(as_staff, db, role):
    client = as_staff(role)
    assert client.get("/admin/imports").status_code == 403
    assert client.get("/admin/imports/mappings").status_code == 403
    assert upload(client, csv_bytes([row("X1")]), follow_redirects=False).status_code == 403
    with db.read() as session:
        assert session.exec(select(Order)).all() == []
    assert "/admin/imports" not in client.get("/admin").text


def test_an_upload_without_the_csrf_token_is_refused(as_staff, db):
    response = upload(as_staff("admin"), csv_bytes([row("C1")]), token="", follow_redirects=False)
    assert response.status_code == 403
    with db.read() as session:
        assert session.exec(select(Order)).all() == []


def test_a_custom_mapping_is_previewed_saved_audited_and_used(as_staff, db):
    client = as_staff("supervisor")
    fields = {"name": "自营商城", "channel": "own_shop", "timezone": "Asia/Shanghai", "col_order_no": "单号",
              "col_status": "状态", "col_created_at": "下单时间", "col_recipient": "收件人", "col_phone": "电话",
              "col_full_address": "地址", "col_item_name": "商品", "col_quantity": "数量", "col_unit_price": "单价"}
    sample = "单号,状态,下单时间,收件人,电话,地址,商品,数量,单价\nS1,paid,2026-11-11 10:00:00,周七,13800138000," \
             "上海市浦东新区世纪大道100号,茶,2,5.50\nS2,paid,2026-11-11 10:00:00,周七,1380," \
             "上海市浦东新区世纪大道100号,茶,2,5.50\n".encode()
    preview = client.post("/admin/imports/mappings", data={**fields, "action": "preview", "_csrf_token": client.csrf},
                          files={"sample": ("sample.csv", sample, "text/csv")})
    assert preview.status_code == 200
    rows = [[td.get_text().strip() for td in tr.select("td")] for tr in soup(preview).select("table.preview-rows tbody tr")]
    assert rows[0][:2] == ["2", "S1"] and rows[0][5] == "上海市上海市浦东新区世纪大道100号"
    assert rows[1][:2] == ["3", "S2"] and rows[1][2].startswith("电话")
    with db.read() as session:
        assert session.exec(select(ImportMapping)).all() == []
    missing = client.post("/admin/imports/mappings", data={**fields, "col_phone": "", "action": "save",
                                                           "_csrf_token": client.csrf})
    assert missing.status_code == 422 and soup(missing).select_one("#e-col_phone") is not None
    assert soup(missing).select_one("#m-name")["value"] == "自营商城"
    saved = client.post("/admin/imports/mappings", data={**fields, "action": "save", "_csrf_token": client.csrf},
                        follow_redirects=False)
    assert saved.status_code == 303
    with db.read() as session:
        mapping = session.exec(select(ImportMapping)).one()
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "import_mapping_save")).one()
    assert json.loads(mapping.columns)["order_no"] == "单号"
    # Saved again from the htmx form: the next page is loaded as a page, not swapped into the form.
    again = client.post("/admin/imports/mappings", data={**fields, "action": "save", "_csrf_token": client.csrf},
                        headers={"HX-Request": "true"}, follow_redirects=False)
    assert again.headers["HX-Redirect"] == "/admin/imports/mappings?saved=%E8%87%AA%E8%90%A5%E5%95%86%E5%9F%8E"
    done = client.post("/admin/imports", data={"_csrf_token": client.csrf, "mapping": "自营商城", "channel": "own_shop"},
                       files={"file": ("mine.csv", sample, "text/csv")}, follow_redirects=False)
    assert done.status_code == 303
    counts = {dd["data-count"]: dd.get_text() for dd in soup(client.get(done.headers["location"])).select("dd[data-count]")}
    assert counts == {"new": "1", "updated": "0", "unchanged": "0", "rejected": "1"}


def test_the_health_page_shows_import_errors(as_staff):
    client = as_staff("admin")
    upload(client, csv_bytes([row("H1", phone="1"), row("H2", phone="2")]))
    html = soup(client.get("/admin/health"))
    tile = html.select_one("[data-figure=import-rejected]")
    assert tile is not None and tile.get_text().strip().startswith("2")
    assert "export.csv" in html.select_one("table.import-errors").get_text()


def test_an_htmx_upload_that_writes_loads_the_run_page_instead_of_nesting_it(as_staff, db):
    response = upload(as_staff("admin"), csv_bytes([row("H1")]), headers={"HX-Request": "true"},
                      follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/admin/imports/")
    assert response.text == ""
