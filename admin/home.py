"""The admin's front page: the search box and the day's numbers."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from admin.auth import current_staff, staff_actor
from core.models import OrderStatus
from core.services.disputes import cases as disputes
from core.services.identity.permissions import Permission
from core.services.orders import lifecycle as order_service
from core.web.deps import DB


@get("/", name="admin_home", opt={"permission": Permission.VIEW_ORDER}, sync_to_thread=True)
def admin_home(request: Request, db: DB) -> Template:
    counts = order_service.count_by_status(db)
    board = disputes.board(db, staff_actor(request))
    return Template(
        template_name="admin/home.html",
        context={"staff": current_staff(request), "counts": [(s, counts.get(s, 0)) for s in OrderStatus],
                 "open_disputes": sum(board.by_status[s] for s in disputes.OPEN_STATES),
                 "overdue_disputes": board.overdue},
    )
