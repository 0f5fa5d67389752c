"""Staff: weekly trends of the exception triage, as a page with SVG charts and as CSV."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, Response, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from admin.auth import current_staff, staff_actor
from core.config import Settings
from core.errors import InvalidInput
from core.services.identity.permissions import Permission
from core.services.triage import report as triage_report
from core.services.triage.report import Week
from core.web.deps import DB
from core.web.htmx import render

P = Permission


def _week(request: Request, raw: str) -> Week:
    settings: Settings = request.app.state.settings
    if not raw.strip():
        return Week.of(datetime.now(settings.tz).date())
    return Week.parse(raw)


@get("/reports/weekly", name="admin_weekly_report", opt={"permission": P.VIEW_REPORTS}, sync_to_thread=True)
def weekly_page(request: Request, db: DB, week: FromQuery[str] = "") -> Template:
    staff = current_staff(request)
    settings: Settings = request.app.state.settings
    try:
        chosen = _week(request, week)
    except InvalidInput as exc:
        return render(request, "admin/weekly_report.html", "admin/_weekly_report.html",
                      {"staff": staff, "report": None, "week_value": week, "week_error": exc.translated()},
                      status_code=HTTP_422_UNPROCESSABLE_ENTITY)
    report = triage_report.weekly(db, chosen, settings.tz)
    return render(request, "admin/weekly_report.html", "admin/_weekly_report.html",
                  {"staff": staff, "report": report, "week_value": chosen.label, "week_error": None})


# A POST with the CSRF token: the export writes its own audit entry, which a cross-site link must not forge.
@post("/reports/weekly.csv", name="admin_weekly_report_csv", opt={"permission": P.VIEW_REPORTS},
      sync_to_thread=True, status_code=200)
def weekly_csv(request: Request, db: DB, data: URLEncodedBody[dict[str, str]]) -> Response:
    settings: Settings = request.app.state.settings
    try:
        chosen = _week(request, data.get("week", ""))
    except InvalidInput as exc:
        return Response(content=exc.translated(), status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                        media_type="text/plain; charset=utf-8")
    content = triage_report.export_weekly(db, staff_actor(request), chosen, settings.tz)
    return Response(content=content, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="triage-{chosen.label}.csv"'})
