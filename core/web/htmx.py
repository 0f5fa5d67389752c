"""One URL serves the full page and its htmx fragment; this decides which."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER


def wants_fragment(request: Request) -> bool:
    """An htmx request that is not a boosted navigation wants just the fragment."""
    headers = request.headers
    return headers.get("hx-request") == "true" and headers.get("hx-boosted") != "true"


def render(
    request: Request,
    page: str,
    fragment: str,
    context: dict[str, Any],
    *,
    status_code: int = HTTP_200_OK,
    headers: dict[str, str] | None = None,
) -> Template:
    """Render `page` (which includes `fragment`) or, for htmx, `fragment` alone."""
    template = fragment if wants_fragment(request) else page
    response_headers = {"Vary": "HX-Request"}
    response_headers.update(headers or {})
    return Template(template_name=template, context=context, status_code=status_code, headers=response_headers)


def see_other(request: Request, path: str) -> Response:
    """After a successful POST: 303 to the next page, or for an htmx request that targets a
    fragment, HX-Redirect (htmx would follow a 303 and swap the whole next page into the fragment)."""
    if wants_fragment(request):
        return Response(content="", headers={"HX-Redirect": path})
    return Redirect(path=path, status_code=HTTP_303_SEE_OTHER)
