"""ASGI middleware: the viewer's language, and security headers on every response."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from litestar.middleware.compression import CompressionMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core import i18n
from core.config import Settings, get_settings
from core.rendering.jinja import static_version

LOCALE_COOKIE = "lang"


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:
                return None
            if name in jar:
                return jar[name].value
    return None


def locale_of(scope: Scope) -> str:
    return i18n.pick_locale(_cookie(scope, LOCALE_COOKIE), get_settings().default_locale)


def locale_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        token = i18n.current_locale.set(locale_of(scope))
        try:
            await app(scope, receive, send)
        finally:
            i18n.current_locale.reset(token)

    return middleware


def content_security_policy(frame_ancestors: str) -> str:
    # No inline scripts or styles anywhere: htmx's indicator styles are turned
    # off in the base template so that style-src can stay 'self'.
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def security_headers_hook(settings: Settings):
    """A `before_send` hook: unlike route middleware it also sees 404s for
    unmatched paths and responses built by exception handlers."""
    fixed = [
        (b"content-security-policy", content_security_policy(settings.frame_ancestors).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if settings.is_prod:
        fixed.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def add_headers(message: Message, scope: Scope) -> None:
        if scope["type"] != "http" or message["type"] != "http.response.start":
            return
        headers = list(message.get("headers", []))
        present = {key.lower() for key, _ in headers}
        headers.extend((k, v) for k, v in fixed if k not in present)
        if scope["path"].startswith("/static/"):
            headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
            headers.append((b"cache-control", static_cache_control(scope)))
        elif b"cache-control" not in present:
            # Pages may carry personal data: never keep them in a shared or browser cache.
            headers.append((b"cache-control", b"no-store"))
        message["headers"] = headers

    return add_headers


FOREVER = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"


def static_cache_control(scope: Scope) -> bytes:
    """A static file asked for by the content-hashed URL the templates write
    (/static/css/portal.css?v=<hash>) never changes under that URL: browsers may keep
    it for a year without asking again. Any other URL of it revalidates (ETag)."""
    asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
    path = scope["path"].removeprefix("/static/")
    return FOREVER if asked and asked == static_version(path) else REVALIDATE


# Text shrinks to a fifth under gzip; PDFs, images and fonts are compressed already.
COMPRESSIBLE = (b"text/", b"application/javascript", b"application/json", b"image/svg+xml")


class TextCompressionMiddleware(CompressionMiddleware):
    """Litestar's compression, limited to responses whose type is text."""

    def create_compression_send_wrapper(self, send: Send, compression_encoding, scope: Scope) -> Send:  # noqa: ANN001
        compressing = super().create_compression_send_wrapper(send, compression_encoding, scope)
        passthrough = False

        async def send_wrapper(message: Message) -> None:
            nonlocal passthrough
            if message["type"] == "http.response.start":
                content_type = next((v for k, v in message.get("headers", []) if k.lower() == b"content-type"), b"")
                passthrough = not content_type.lower().startswith(COMPRESSIBLE)
            await (send if passthrough else compressing)(message)

        return send_wrapper


class AsciiCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF check, refusing a token that is not ASCII before it is compared.

    `hmac.compare_digest` raises TypeError on a `str` with a non-ASCII character, which turned a
    forged token (in the form field, the header or the cookie) into a 500 with a traceback. Such a
    token cannot be one we issued: it is simply a mismatch, answered 403 like any other."""

    def _decode_csrf_token(self, token: str) -> str | None:
        if not token.isascii():
            return None
        return super()._decode_csrf_token(token)
