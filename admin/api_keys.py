"""Administrators: keys of the push API. A new key's secret is shown once, on the
answer to the form that made it; every creation and revocation is audited."""

from __future__ import annotations

from anyio import to_thread
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from admin.auth import current_staff, staff_actor
from core.config import Settings
from core.errors import InvalidInput
from core.services.channels import api_keys
from core.services.identity.permissions import Permission
from core.web.deps import DB

P = Permission


def _page(request: Request, db, *, status_code: int = 200, values: dict | None = None,  # noqa: ANN001
          errors: dict[str, str] | None = None, created: api_keys.CreatedKey | None = None,
          revoked: str = "") -> Template:
    return Template(template_name="admin/api_keys.html", status_code=status_code, context={
        "staff": current_staff(request), "keys": api_keys.list_keys(db), "scopes": api_keys.SCOPES,
        "values": values or {"name": "", "scopes": [], "rate_limit": "600"}, "errors": errors or {}, "created": created,
        "revoked": revoked})


@get("/api-keys", name="admin_api_keys", opt={"permission": P.MANAGE_API_KEYS}, sync_to_thread=True)
def api_keys_page(request: Request, db: DB, revoked: FromQuery[str] = "") -> Template:
    return _page(request, db, revoked=revoked[:32])


@post("/api-keys", name="admin_api_key_create", opt={"permission": P.MANAGE_API_KEYS}, status_code=200)
async def create_api_key(request: Request, db: DB) -> Template:
    form = await request.form()
    values = {"name": form.get("name", ""), "scopes": form.getall("scopes") if "scopes" in form else [],
              "rate_limit": form.get("rate_limit", "600").strip()}
    actor = staff_actor(request)
    settings: Settings = request.app.state.settings

    def create() -> Template:
        try:
            created = api_keys.create_key(db, actor, settings.secret_key, name=values["name"], scopes=values["scopes"],
                                          rate_limit_per_minute=values["rate_limit"])
        except InvalidInput as exc:
            return _page(request, db, status_code=HTTP_422_UNPROCESSABLE_ENTITY, values=values,
                         errors={exc.field: exc.translated()})
        return _page(request, db, created=created)

    return await to_thread.run_sync(create)


@post("/api-keys/{key_id:str}/revoke", name="admin_api_key_revoke", opt={"permission": P.MANAGE_API_KEYS},
      sync_to_thread=True)
def revoke_api_key(request: Request, db: DB, key_id: FromPath[str]) -> Response:
    row = api_keys.revoke_key(db, staff_actor(request), key_id)
    return Redirect(path=f"/admin/api-keys?revoked={row.key_id}", status_code=HTTP_303_SEE_OTHER)
