"""Staff with MANAGE_RULES: tune the triage rules, preview what an edit would tag, then save."""

from __future__ import annotations

import json

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from admin.auth import current_staff, staff_actor
from core.i18n import translate
from core.models import TriageQueue, TriageRule
from core.services.identity.permissions import Permission
from core.services.triage import engine as triage
from core.services.triage import rules as triage_rules
from core.web.deps import DB
from core.web.htmx import render

P = Permission


@get("/triage/rules", name="admin_triage_rules", opt={"permission": P.MANAGE_RULES}, sync_to_thread=True)
def rules_page(request: Request, db: DB, saved: FromQuery[str] = "") -> Template:
    return Template(template_name="admin/triage_rules.html", context={
        "staff": current_staff(request), "rules": [(r, json.loads(r.params)) for r in triage_rules.list_rules(db)],
        "saved": saved})


def _form_values(rule: TriageRule) -> dict[str, str]:
    """The rule as the form shows it: lists one entry per line."""
    values = {key: "\n".join(value) if isinstance(value, list) else str(value)
              for key, value in json.loads(rule.params).items()}
    values.update(queue=rule.queue, enabled="1" if rule.enabled else "", loaded_at=rule.updated_at.isoformat())
    return values


def _editor(request: Request, rule: TriageRule, values: dict[str, str], *, status_code: int = 200,
            errors: dict[str, str] | None = None, preview: triage.Preview | None = None,
            conflict: str | None = None) -> Template:
    params = json.loads(rule.params)
    fields = [(key, triage_rules.PARAM_KINDS[key][0]) for key in triage_rules.PARAM_ORDER if key in params]
    return render(request, "admin/triage_rule.html", "admin/_triage_rule_form.html", {
        "staff": current_staff(request), "rule": rule, "values": values, "fields": fields, "errors": errors or {},
        "preview": preview, "conflict": conflict, "saved_params": params, "queues": list(TriageQueue),
        "placeholders": triage_rules.PLACEHOLDERS}, status_code=status_code)


@get("/triage/rules/{code:str}", name="admin_triage_rule", opt={"permission": P.MANAGE_RULES}, sync_to_thread=True)
def rule_page(request: Request, db: DB, code: FromPath[str]) -> Template:
    rule = triage_rules.get_rule(db, code)
    return _editor(request, rule, _form_values(rule))


def _error_texts(exc: triage_rules.RuleErrors) -> dict[str, str]:
    return {key: translate(message, params)
            for key, (message, params) in exc.errors.items()}


@post("/triage/rules/{code:str}/preview", name="admin_triage_rule_preview", opt={"permission": P.MANAGE_RULES},
      sync_to_thread=True, status_code=200)
def preview_rule(request: Request, db: DB, code: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Template:
    """Read-only: nothing is saved and nothing is audited (the audit log is a write too)."""
    rule = triage_rules.get_rule(db, code)
    values = dict(data)
    try:
        edited = triage_rules.parse_form(rule, data)
    except triage_rules.RuleErrors as exc:
        return _editor(request, rule, values, status_code=HTTP_422_UNPROCESSABLE_ENTITY, errors=_error_texts(exc))
    return _editor(request, rule, values, preview=triage.preview(db, edited))


@post("/triage/rules/{code:str}", name="admin_triage_rule_save", opt={"permission": P.MANAGE_RULES},
      sync_to_thread=True)
def save_rule(request: Request, db: DB, code: FromPath[str], data: URLEncodedBody[dict[str, str]]) -> Response:
    values = dict(data)
    try:
        triage_rules.save_rule(db, staff_actor(request), code, data)
    except triage_rules.RuleErrors as exc:
        return _editor(request, triage_rules.get_rule(db, code), values, status_code=HTTP_422_UNPROCESSABLE_ENTITY,
                       errors=_error_texts(exc))
    except triage_rules.RuleChanged as exc:
        fresh = triage_rules.get_rule(db, code)
        return _editor(request, fresh, {**values, "loaded_at": fresh.updated_at.isoformat()},
                       status_code=HTTP_409_CONFLICT, conflict=exc.translated())
    return Redirect(path=f"/admin/triage/rules?saved={code}", status_code=HTTP_303_SEE_OTHER)
