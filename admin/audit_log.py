"""Staff: the audit trail, searchable, exportable by admins."""

from __future__ import annotations

import csv
import io

from litestar import Request, Response, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Template

from admin.auth import current_staff, staff_actor
from core.rendering.jinja import localtime
from core.services.audit import log as audit_log
from core.services.identity.permissions import Permission
from core.web.deps import DB

P = Permission


@get("/audit", name="admin_audit", opt={"permission": P.VIEW_AUDIT}, sync_to_thread=True)
def audit_page(request: Request, db: DB, actor: FromQuery[str] = "", order: FromQuery[str] = "", action: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
    result = audit_log.search(db, actor=actor, order_ref=order, action=action, page=page)
    return Template(template_name="admin/audit.html", context={
        "staff": current_staff(request), "result": result, "actor": actor, "order": order, "action": action,
        "check": audit_log.verify(db)})


# A POST with the CSRF token: the export writes its own audit entry, which a cross-site link must not forge.
@post("/audit.csv", name="admin_audit_export", opt={"permission": P.MANAGE_STAFF}, sync_to_thread=True,
      status_code=200)
def audit_export(request: Request, db: DB, data: URLEncodedBody[dict[str, str]]) -> Response:
    result = audit_log.export(db, staff_actor(request), actor_filter=data.get("actor", ""),
                              order_ref=data.get("order", ""), action=data.get("action", ""))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["seq", "at", "actor", "action", "order_ref", "client_ip", "detail", "entry_hash"])
    for entry in result.entries:
        writer.writerow([entry.seq, localtime(entry.at, "full"), entry.actor, entry.action, entry.order_ref or "",
                         entry.client_ip, entry.detail, entry.entry_hash])
    return Response(content="\ufeff".encode() + buffer.getvalue().encode("utf-8"),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
