"""The evidence pack download (verified owner) and the public verification page."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from core.config import Settings
from core.services.orders import for_customer as customer_orders
from core.services.tracking import evidence
from core.services.tracking.evidence_packs import pack_for_download
from core.web.deps import DB
from portal.auth import require_phone


@get("/orders/{ref:str}/evidence.pdf", name="order_evidence", sync_to_thread=True)
def evidence_pdf(request: Request, db: DB, ref: FromPath[str]) -> Response:
    phone = require_phone(request, db)
    customer_orders.get_customer_order(db, phone, ref)  # 404 unless this phone owns the order
    settings: Settings = request.app.state.settings
    pack = pack_for_download(db, settings, ref, audience="customer", actor=f"customer:{phone}", via="portal",
                             client_ip=request.client.host if request.client else "")
    return Response(
        content=pack.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{ref}-{pack.digest[:8]}.pdf"',
            "ETag": f'"{pack.pdf_sha256}"',
        },
    )


@get("/verify/{digest:str}", name="verify_digest", sync_to_thread=True)
def verify_page(db: DB, digest: FromPath[str]) -> Template:
    result = evidence.check_digest(db, digest.strip().lower()[:64])
    return Template(template_name="portal/verify.html", context={"result": result, "digest": digest})
