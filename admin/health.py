"""Staff: the operator's view of a peak sale."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from admin.auth import current_staff
from core.services.identity.permissions import Permission
from core.services.orders import operations
from core.web.deps import DB


@get("/health", name="admin_health", opt={"permission": Permission.VIEW_ORDER}, sync_to_thread=True)
def health_page(request: Request, db: DB) -> Template:
    return Template(template_name="admin/health.html",
                    context={"staff": current_staff(request), "f": operations.figures(db)})
