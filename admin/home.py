"""The admin's front page: order counts by status, for a first look at the day."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from core.models import OrderStatus
from core.services import orders as order_service
from core.web.deps import DB


@get("/", name="admin_home", sync_to_thread=True)
def admin_home(db: DB) -> Template:
    counts = order_service.count_by_status(db)
    return Template(
        template_name="admin/home.html",
        context={"counts": [(status, counts.get(status, 0)) for status in OrderStatus]},
    )
