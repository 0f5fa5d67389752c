"""The portal's front door and the public service terms."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from core.services.orders import terms as terms_service
from core.web.deps import DB


@get("/", name="portal_home", sync_to_thread=False)
def home() -> Template:
    return Template(template_name="portal/home.html")


@get("/terms", name="terms_current", sync_to_thread=True)
def terms_current(request: Request, db: DB) -> Template:
    return Template(
        template_name="portal/terms.html",
        context={"terms": terms_service.current_terms(db), "history": terms_service.all_versions(db)},
    )
