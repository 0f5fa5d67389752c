"""Routes that belong to neither side: health check and language switch."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from litestar import MediaType, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.exc import SQLAlchemyError

from core.config import SUPPORTED_LOCALES
from core.services.orders.operations import prometheus
from core.signatures import same_secret
from core.web.deps import DB
from core.web.middleware import LOCALE_COOKIE

logger = logging.getLogger("orderdesk.health")


@get("/healthz", media_type=MediaType.JSON, sync_to_thread=True, name="healthz")
def healthz(db: DB) -> Response:
    try:
        db.ping()
    except SQLAlchemyError as exc:
        logger.error("health check: database unreachable: %s", exc.__class__.__name__)
        return Response(
            {"status": "error", "database": "unreachable"}, status_code=HTTP_503_SERVICE_UNAVAILABLE
        )
    return Response({"status": "ok", "database": "ok"}, status_code=HTTP_200_OK)


@get("/metrics", name="metrics", sync_to_thread=True, media_type="text/plain; version=0.0.4")
def metrics(request: Request, db: DB) -> Response:
    """Prometheus metrics. With METRICS_TOKEN set, a bearer token is required; in prod without one, off."""
    settings = request.app.state.settings
    if settings.metrics_token:
        expected = f"Bearer {settings.metrics_token}"
        if not same_secret(expected, request.headers.get("authorization", "")):
            return Response("unauthorized\n", status_code=401, media_type=MediaType.TEXT)
    elif settings.is_prod:
        return Response("not found\n", status_code=404, media_type=MediaType.TEXT)
    return Response(prometheus(db), media_type="text/plain; version=0.0.4")


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: never an open redirect to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@get("/lang/{code:str}", name="set_language", sync_to_thread=False)
def set_language(code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:  # noqa: A002
    target = safe_next(next)
    if code not in SUPPORTED_LOCALES:
        return Redirect(path=target, status_code=HTTP_303_SEE_OTHER)
    return Redirect(
        path=target,
        status_code=HTTP_303_SEE_OTHER,
        cookies=[Cookie(key=LOCALE_COOKIE, value=code, max_age=365 * 24 * 3600, samesite="lax", httponly=True)],
    )


# Ids in paths are database integers: past this, PostgreSQL refuses the query (a 500) before it
# could answer "no such row".
LARGEST_ID = 2**31 - 1


async def path_ids_in_range(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """An app-wide guard: an integer in a path outside 0..LARGEST_ID names nothing, so it is a 404."""
    for value in connection.path_params.values():
        if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= LARGEST_ID:
            raise NotFoundException()
