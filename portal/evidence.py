"""The evidence pack download (verified owner) and the public verification page."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from core.services.tracking import evidence
from core.services.tracking.evidence_packs import pack_for_download
from core.web.deps import DB
from portal.auth import require_phone, shopper


@get("/orders/{ref:str}/evidence.pdf", name="order_evidence", sync_to_thread=True)
def evidence_pdf(request: Request, db: DB, ref: FromPath[str]) -> Response:
    phone = require_phone(request, db)
    # 404 unless this phone owns the order (checked in the use case, before anything is rendered).
    pack = pack_for_download(db, request.app.state.settings, shopper(request, phone), ref)
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
