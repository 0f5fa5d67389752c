"""Friendly error pages (HTML) and JSON errors for machine clients."""

from __future__ import annotations

import logging

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template
from litestar.status_codes import HTTP_404_NOT_FOUND, HTTP_500_INTERNAL_SERVER_ERROR

from core import i18n
from core.web.middleware import locale_of

logger = logging.getLogger("orderdesk.errors")


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.startswith(("/api/", "/healthz")) or (
        "application/json" in accept and "text/html" not in accept
    )


_API_CODES = {404: "not_found", 405: "method_not_allowed", 500: "server_error"}


def _api_error(status_code: int, message: str) -> Response:
    """The push API's error shape, also for what happens before its routes (no such path or method)."""
    return Response({"error": _API_CODES.get(status_code, "error"), "message": message, "errors": []},
                    status_code=status_code, media_type=MediaType.JSON)


def _page(request: Request, status_code: int, template: str) -> Response:
    # Unmatched paths never pass through the route middleware that picks the language.
    i18n.current_locale.set(locale_of(request.scope))
    if request.url.path.startswith("/api/v1/"):
        return _api_error(status_code, "no such endpoint" if status_code == HTTP_404_NOT_FOUND else "internal error")
    if _wants_json(request):
        return Response({"error": status_code}, status_code=status_code, media_type=MediaType.JSON)
    area = "admin" if request.url.path.startswith("/admin") else "portal"
    return Template(template_name=template, context={"area": area}, status_code=status_code)


def not_found_handler(request: Request, _exc: Exception) -> Response:
    return _page(request, HTTP_404_NOT_FOUND, "errors/404.html")


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == HTTP_404_NOT_FOUND:
        return not_found_handler(request, exc)
    if exc.status_code >= 500:
        return server_error_handler(request, exc)
    if request.url.path.startswith("/api/v1/"):
        return _api_error(exc.status_code, str(exc.detail))
    if _wants_json(request):
        return Response({"error": exc.status_code, "detail": exc.detail}, status_code=exc.status_code)
    i18n.current_locale.set(locale_of(request.scope))
    return Template(
        template_name="errors/4xx.html",
        context={"area": "portal", "status_code": exc.status_code, "detail": exc.detail},
        status_code=exc.status_code,
    )


def server_error_handler(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _page(request, HTTP_500_INTERNAL_SERVER_ERROR, "errors/500.html")
