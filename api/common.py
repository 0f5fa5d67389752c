"""What every push-API endpoint shares: the signature guard, JSON errors, and
running a request once per Idempotency-Key."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import msgspec
from anyio import to_thread
from litestar import MediaType, Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers.base import BaseRouteHandler

from core.errors import DomainError, InvalidInput, NotFound, TransitionNotAllowed
from core.i18n import interpolate
from core.services.actors import Actor
from core.services.channels import api_keys, idempotency
from core.services.channels.ingest_batch import RefusedByDatabase
from core.services.orders.addresses import AddressErrors

# A full call of 500 orders is about 1 MB of JSON.
MAX_BODY_BYTES = 4 * 1024 * 1024


class ApiError(HTTPException):
    """An error answered as {"error": code, "message": ..., "errors": [{"field", "message"}]}."""

    def __init__(self, status_code: int, code: str, message: str, errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code
        self.message = message
        self.errors = errors or []


def encode(body: dict) -> bytes:
    """One encoding for first answers and replays, so a replay is byte for byte the same."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def json_response(status_code: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(content=encode(body), status_code=status_code, media_type=MediaType.JSON,
                    headers={"Cache-Control": "no-store", **(headers or {})})


def error_body(code: str, message: str, errors: list[dict[str, str]] | None = None) -> dict:
    return {"error": code, "message": message, "errors": errors or []}


def api_error_handler(_request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, ApiError):
        return json_response(exc.status_code, error_body(exc.code, exc.message, exc.errors), exc.headers)
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
             413: "too_large", 415: "unsupported_media_type", 429: "too_many_requests"}
    code = codes.get(exc.status_code, "error")
    message = "request body too large" if exc.status_code == 413 else str(exc.detail)
    return json_response(exc.status_code, error_body(code, message), exc.headers)


async def signed_request_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Every API route but the schema: a valid signature over the raw body, by a key
    holding the scope the route names in opt={"scope": ...}."""
    if handler.opt.get("public"):
        return
    request: Request = connection  # type: ignore[assignment]  (HTTP routes get the Request)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", f"request body larger than {MAX_BODY_BYTES} bytes")
    state = request.app.state
    path = request_path(request)
    query = request.scope.get("query_string", b"")
    if query:
        path += "?" + query.decode("latin-1")
    headers = request.headers
    try:
        caller = await to_thread.run_sync(lambda: api_keys.authenticate(
            state.db, state.settings.secret_key, key_id=headers.get("x-orderdesk-key"),
            timestamp=headers.get("x-orderdesk-timestamp"), signature=headers.get("x-orderdesk-signature"),
            method=request.method, path=path, body=body))
    except api_keys.RateLimited as exc:
        raise ApiError(429, exc.code, exc.message, headers={"Retry-After": str(exc.retry_after)}) from None
    except api_keys.AuthFailed as exc:
        raise ApiError(401, exc.code, exc.message, headers={"WWW-Authenticate": "OrderdeskHMAC"}) from None
    scope = handler.opt["scope"]
    if scope not in caller.scopes:
        raise ApiError(403, "missing_scope", f"this key lacks the scope {scope}")
    request.state.api_caller = caller


def request_path(request: Request) -> str:
    """The path as the client sent it on the request line (what it signed)."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else quote(request.scope["path"])


def caller_of(request: Request) -> api_keys.ApiCaller:
    return request.state.api_caller


def decode_json(body: bytes) -> Any:
    if not body.strip():
        raise ApiError(400, "malformed_json", "the body is empty; send JSON")
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        # No payload of ours nests more than a few levels; thousands of brackets are an attack.
        raise ApiError(400, "malformed_json", "the body nests too deeply") from None


def convert(raw: Any, kind: type, prefix: str = "") -> Any:
    from api.schemas import validation_errors

    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        raise ApiError(422, "invalid", "the body has errors", validation_errors(exc, prefix)) from None


ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "street", "postal_code")


def domain_field_errors(exc: DomainError, prefix: str = "", field_map: dict[str, str] | None = None
                        ) -> list[dict[str, str]]:
    """A service's InvalidInput names a field in its own words; the client wants its JSON path."""
    field_map = field_map or {}
    message = interpolate(exc.message, exc.params)
    if isinstance(exc, AddressErrors):
        return [{"field": f"{prefix}address.{key}", "message": text} for key, text in exc.errors.items()]
    if isinstance(exc, InvalidInput):
        return [{"field": prefix + field_map.get(exc.field, exc.field), "message": message}]
    if isinstance(exc, RefusedByDatabase):
        return [{"field": prefix.rstrip(".") or "body", "message": message}]
    return [{"field": prefix + field_map.get("status", "status"), "message": message}]


def domain_reply(exc: DomainError) -> idempotency.Reply:
    """A refusal by a service, as an answer that is stored for replays like any other."""
    message = interpolate(exc.message, exc.params)
    if isinstance(exc, NotFound):
        return idempotency.Reply(404, error_body("not_found", message))
    if isinstance(exc, TransitionNotAllowed):
        return idempotency.Reply(409, error_body("not_allowed", message, domain_field_errors(exc)))
    return idempotency.Reply(422, error_body("invalid", message, domain_field_errors(exc)))


def integration_actor(request: Request) -> Actor:
    """The signed caller as the Actor of a use case (order history shows "api:<integration>")."""
    return Actor.integration(caller_of(request).actor, via="api",
                             client_ip=request.client.host if request.client else "")


async def answer_once(request: Request, use_case: Callable[[idempotency.Once], idempotency.Reply]) -> Response:
    """Call the use case (it runs in one write transaction, once per Idempotency-Key of this
    integration) and answer its reply, or the first answer again for a repeated key."""
    key = request.headers.get("idempotency-key")
    if key is not None:
        key = key.strip()
        if not key or len(key) > idempotency.MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
            raise ApiError(400, "bad_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters",
                           [{"field": "Idempotency-Key", "message": "1 to 255 printable ASCII characters"}])
    body = await request.body()
    once = idempotency.Once(integration_id=caller_of(request).integration_id, key=key,
                            fingerprint=idempotency.request_hash(request.method, request_path(request), body))
    try:
        reply = await to_thread.run_sync(lambda: use_case(once))
    except idempotency.KeyReused:
        raise ApiError(422, "idempotency_key_reused",
                       "this Idempotency-Key was used with a different request in the last 24 hours",
                       [{"field": "Idempotency-Key", "message": "already used with a different request"}]) from None
    except InvalidInput as exc:
        # Refused before anything ran (a time in the future): answered like a body with errors, not stored.
        raise ApiError(422, "invalid", "the body has errors", domain_field_errors(exc)) from None
    headers = {"Idempotent-Replayed": "true"} if reply.replayed else {}
    return json_response(reply.status_code, reply.body, headers)
