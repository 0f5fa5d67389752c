"""Composition: one Litestar app with the portal at / and the admin at /admin."""

from __future__ import annotations

import gc
import logging

from anyio import to_thread
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router

from admin import admin_router
from api import api_router
from core import errors as domain_errors
from core import logs
from core.config import PROJECT_ROOT, Settings, get_settings
from core.db import POOL_SIZE, Database, get_database
from core.jobs.inprocess import start_if_elected, stop_elected
from core.web.common import healthz, metrics, path_ids_in_range, set_language
from core.web.errors import http_error_handler, not_found_handler, server_error_handler
from core.web.middleware import (
    AsciiCSRFMiddleware,
    TextCompressionMiddleware,
    locale_middleware,
    security_headers_hook,
)
from core.web.templating import template_config
from portal import portal_router


def freeze_startup_objects() -> None:
    """Everything made while importing and building the app (SQLAlchemy mappers,
    pydantic models, compiled templates: some 100,000 objects) lives as long as the
    process. Moved out of the collector's reach, they are no longer walked by each full
    collection, which under load cost about a millisecond of every order page."""
    gc.collect()
    gc.freeze()


async def limit_request_threads() -> None:
    """Sync handlers run in threads; no more of them at once than pooled database
    connections. More threads would not run Python faster (one interpreter lock per
    process) but would make each request open and close a connection of its own."""
    to_thread.current_default_thread_limiter().total_tokens = POOL_SIZE


def create_app(settings: Settings | None = None, db: Database | None = None) -> Litestar:
    settings = settings or get_settings()
    database = db or get_database(settings.database_url)
    logs.configure(logging.INFO)

    def provide_db(state: State) -> Database:
        return state.db

    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="__Host-csrftoken" if settings.is_prod else "csrftoken",
        cookie_secure=settings.is_prod,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=["/healthz", "/metrics"],
    )
    return Litestar(
        route_handlers=[
            portal_router,
            admin_router,
            api_router,
            healthz,
            metrics,
            set_language,
            create_static_files_router(path="/static", directories=[PROJECT_ROOT / "static"], name="static"),
        ],
        state=State({"db": database, "settings": settings}),
        dependencies={"db": Provide(provide_db, sync_to_thread=False)},
        guards=[path_ids_in_range],
        template_config=template_config(settings),
        plugins=[HTMXPlugin()],
        # Level 6: within 1% of level 9's size on our pages, in about four-fifths of its time.
        compression_config=CompressionConfig(backend="gzip", gzip_compress_level=6, minimum_size=500,
                                             middleware_class=TextCompressionMiddleware),
        # The CSRF check as Litestar's csrf_config would place it, with non-ASCII tokens refused first.
        middleware=[DefineMiddleware(AsciiCSRFMiddleware, config=csrf), locale_middleware],
        before_send=[security_headers_hook(settings)],
        exception_handlers={
            NotFoundException: not_found_handler,
            domain_errors.NotFound: not_found_handler,
            HTTPException: http_error_handler,
            Exception: server_error_handler,
        },
        # Production only: a test run builds hundreds of apps, and frozen garbage is never freed.
        on_startup=[limit_request_threads, lambda: start_if_elected(database, settings),
                    *([freeze_startup_objects] if settings.is_prod else [])],
        on_shutdown=[stop_elected, lambda: database.dispose()],
        # The site-wide schema would list every HTML route; the push API serves its own at /api/v1/schema.
        openapi_config=None,
        debug=False,
    )


def create_served_app():  # noqa: ANN201 (an ASGI callable)
    """The app as `orderdesk serve --server granian` runs it. In production it sits behind
    the TLS proxy, so the client's address (which the sign-in limits count) comes from the
    proxy's X-Forwarded-For, as uvicorn's proxy_headers does; only 127.0.0.1 is trusted to
    set it, or FORWARDED_ALLOW_IPS (uvicorn's variable, a comma-separated list)."""
    settings = get_settings()
    app = create_app(settings)
    if not settings.is_prod:
        return app
    import os

    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    trusted = [ip.strip() for ip in os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1").split(",") if ip.strip()]
    return wrap_asgi_with_proxy_headers(app, trusted_hosts=trusted)
