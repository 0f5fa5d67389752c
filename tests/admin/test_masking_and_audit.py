"""Personal data masked by role in HTML, CSV and PDF; every audited action leaves a chained record."""

import csv
import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bs4 import BeautifulSoup
from sqlalchemy import text

from core.carriers.base import NormalizedEvent
from core.models import Shipment
from core.services.actors import Actor
from core.services.audit import log as audit
from core.services.orders import shipping
from core.services.tracking.events import append_events
from tests.factories import address, make_order

ROOT = Path(__file__).resolve().parents[2]
FULL_PHONE, MASKED_PHONE = "13912345678", "139****5678"
STREET = "文三路 100 号 2 幢 301 室"


def visible_text(response) -> str:
    return BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)


def the_order(db, warehouses):
    order = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id,
                       address=address(recipient="李小龙", phone="+86" + FULL_PHONE, street=STREET))
    shipment = shipping.mark_shipped(db, Actor.integration("t", via="api"), order.ref, carrier="SF", tracking_no="SF900",
                                     at=datetime.now(UTC) - timedelta(days=1))
    with db.write() as session:
        append_events(session, session.get(Shipment, shipment.id), [NormalizedEvent(
            datetime.now(UTC) - timedelta(hours=3), "0", "【杭州市】已发出", "杭州市", "in_transit", None, "{}")],
            source="push")
    return order


def actions_of(db, action):
    return audit.search(db, action=action, limit=None).entries


def test_support_agent_sees_masked_data_and_cannot_reveal(as_staff, db, warehouses):
    order = the_order(db, warehouses)
    client = as_staff("support")
    page = visible_text(client.get(f"/admin/orders/{order.ref}"))
    assert MASKED_PHONE in page and "李**" in page
    assert FULL_PHONE not in page and "李小龙" not in page and "文三路" not in page
    assert client.post(f"/admin/orders/{order.ref}/reveal", data={"_csrf_token": client.csrf}).status_code == 403
    revealed = visible_text(client.get(f"/admin/orders/{order.ref}?reveal=true"))  # the old link: a plain view
    assert FULL_PHONE not in revealed and "文三路" not in revealed
    assert not actions_of(db, "reveal")
    listing = visible_text(client.get(f"/admin/orders?q={FULL_PHONE}"))
    assert order.ref in listing and FULL_PHONE not in listing and MASKED_PHONE in listing


def test_reveal_shows_full_values_and_is_audited(as_staff, db, warehouses, cast):
    order = the_order(db, warehouses)
    client = as_staff("supervisor")
    assert FULL_PHONE not in visible_text(client.get(f"/admin/orders/{order.ref}"))
    # A link (a GET, which another site could make the browser send) reveals nothing and writes no "reveal".
    assert FULL_PHONE not in visible_text(client.get(f"/admin/orders/{order.ref}?reveal=true"))
    assert not actions_of(db, "reveal")
    assert client.post(f"/admin/orders/{order.ref}/reveal").status_code == 403  # no CSRF token
    response = client.post(f"/admin/orders/{order.ref}/reveal", data={"_csrf_token": client.csrf})
    assert response.headers["hx-push-url"] == f"/admin/orders/{order.ref}"  # a reload is a plain view
    page = visible_text(response)
    assert FULL_PHONE in page and "李小龙" in page and "文三路" in page
    [entry] = actions_of(db, "reveal")
    assert entry.actor == "supervisor@shop.test" and entry.order_ref == order.ref and entry.client_ip


def test_masked_pdf_for_a_role_that_may_not_see(as_staff, db, warehouses):
    order = the_order(db, warehouses)
    pdf = as_staff("support").get(f"/admin/orders/{order.ref}/evidence.pdf").content
    extracted = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert MASKED_PHONE in extracted and "杭州市" in extracted
    assert FULL_PHONE not in extracted and "文三路" not in extracted and "李小龙" not in extracted
    full = as_staff("supervisor").get(f"/admin/orders/{order.ref}/evidence.pdf").content
    assert FULL_PHONE in subprocess.run(["pdftotext", "-", "-"], input=full, capture_output=True).stdout.decode()
    assert [e.detail for e in actions_of(db, "evidence_download")] == [
        *[e.detail for e in actions_of(db, "evidence_download")]]
    assert {e.actor for e in actions_of(db, "evidence_download")} == {"support@shop.test", "supervisor@shop.test"}


def test_every_audited_action_is_recorded(as_staff, db, warehouses):
    order = make_order(db, paid=True, warehouse_id=warehouses["HZ"].id)
    client = as_staff("admin")
    client.get(f"/admin/orders/{order.ref}")
    client.post(f"/admin/orders/{order.ref}/notes", data={"body": "客户来电催发货", "_csrf_token": client.csrf})
    client.post(f"/admin/orders/{order.ref}/address", data={
        "recipient": "王五", "phone": "13700000000", "province": "浙江省", "city": "杭州市", "district": "上城区",
        "street": "解放路 1 号 101 室", "_csrf_token": client.csrf})
    client.post(f"/admin/orders/{order.ref}/ship", data={"carrier": "JD", "tracking_no": "JDVA0001",
                                                         "_csrf_token": client.csrf})
    client.post("/admin/orders/export", data={"_csrf_token": client.csrf})
    client.get(f"/admin/orders/{order.ref}/evidence.pdf")
    recorded = {(e.action, e.order_ref) for e in audit.search(db, limit=None).entries}
    for action in ["view_order", "add_note", "change_address", "mark_shipped", "evidence_download"]:
        assert (action, order.ref) in recorded, action
    assert ("export", None) in recorded
    assert audit.verify(db).intact


def test_audit_log_is_searchable_and_chained(as_staff, db, warehouses):
    order = the_order(db, warehouses)
    as_staff("support").get(f"/admin/orders/{order.ref}")
    supervisor = as_staff("supervisor")
    supervisor.post(f"/admin/orders/{order.ref}/reveal", data={"_csrf_token": supervisor.csrf})
    page = BeautifulSoup(as_staff("compliance").get(f"/admin/audit?order={order.ref}").text, "html.parser")
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in page.select("tbody tr")]
    assert [(r[2], r[3]) for r in rows] == [("supervisor@shop.test", "reveal"), ("support@shop.test", "view_order")]
    assert "没有被修改或删除" in page.select_one(".notice").get_text()
    by_actor = as_staff("compliance").get("/admin/audit?actor=support@shop.test")
    assert "supervisor@shop.test" not in visible_text(by_actor).split("审计日志", 1)[1].replace(
        "compliance@shop.test", "")


def test_tampering_with_the_audit_log_is_detected(as_staff, db, warehouses, tmp_path):
    order = the_order(db, warehouses)
    client = as_staff("admin")
    for _ in range(3):
        client.get(f"/admin/orders/{order.ref}")
    assert audit.verify(db).intact
    env = {"DATABASE_URL": db.url.replace("+psycopg", ""), "ORDERDESK_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "core.cli", "verify-audit"], cwd=ROOT, env=env, capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.startswith("OK:")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'nobody@shop.test' WHERE seq = 2"))
    check = audit.verify(db)
    assert not check.intact and "entry #2 was altered" in check.problem
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'admin@shop.test' WHERE seq = 2"))
        conn.execute(text("DELETE FROM audit_log WHERE seq = 1"))
    assert "entry #1 is missing" in audit.verify(db).problem
    bad = subprocess.run([sys.executable, "-m", "core.cli", "verify-audit"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 1 and "FAILED" in bad.stdout


def test_large_export_needs_a_reason_and_is_audited(as_staff, db, warehouses):
    for n in range(101):
        make_order(db, channel_order_no=f"EXP{n:04d}", warehouse_id=warehouses["HZ"].id)
    client = as_staff("compliance")
    assert client.get("/admin/orders/export").status_code == 405
    confirm = client.post("/admin/orders/export", data={"_csrf_token": client.csrf})
    assert confirm.headers["content-type"].startswith("text/html")
    assert not actions_of(db, "export")
    assert "101" in visible_text(confirm)
    refused = client.post("/admin/orders/export", data={"reason": "", "_csrf_token": client.csrf})
    assert refused.status_code == 422
    assert not actions_of(db, "export")
    response = client.post("/admin/orders/export", data={"reason": "季度对账", "_csrf_token": client.csrf})
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "order_ref" and len(rows) == 102
    assert rows[1][8] == "张三"  # compliance may see full names
    [entry] = actions_of(db, "export")
    assert '"reason": "季度对账"' in entry.detail and '"rows": 101' in entry.detail


def test_small_export_streams_directly(as_staff, db, warehouses):
    make_order(db, warehouse_id=warehouses["HZ"].id)
    supervisor = as_staff("supervisor")
    listing = BeautifulSoup(supervisor.get("/admin/orders").text, "html.parser")
    form = listing.select_one("form[action='/admin/orders/export']")
    assert form["method"] == "post"
    response = supervisor.post("/admin/orders/export", data={
        "_csrf_token": form.select_one("input[name=_csrf_token]")["value"]})
    assert response.headers["content-type"].startswith("text/csv")
    assert len(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))) == 2


def test_the_audit_export_is_a_post_with_the_csrf_token_and_is_itself_audited(as_staff, db, warehouses):
    order = the_order(db, warehouses)
    as_staff("support").get(f"/admin/orders/{order.ref}")
    admin = as_staff("admin")
    page = BeautifulSoup(admin.get(f"/admin/audit?order={order.ref}").text, "html.parser")
    form = page.select_one("form[action='/admin/audit.csv']")
    assert form["method"] == "post" and form.select_one("input[name=order]")["value"] == order.ref
    assert admin.get(f"/admin/audit.csv?order={order.ref}").status_code == 405
    assert admin.post("/admin/audit.csv", data={"order": order.ref}).status_code == 403  # no CSRF token
    assert actions_of(db, "export_audit") == []
    response = admin.post("/admin/audit.csv", data={"order": order.ref, "_csrf_token": admin.csrf})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[3] for row in rows[1:]] == ["view_order"]
    [export] = actions_of(db, "export_audit")
    assert export.actor == "admin@shop.test"
