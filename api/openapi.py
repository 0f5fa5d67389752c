"""The OpenAPI document of the push API, at /api/v1/schema.

Built from the push handlers themselves (path, method, docstring, the scope and
body types in their `opt`) and the msgspec Structs of api/schemas.py. The handlers
read the raw body (the signature covers the exact bytes) instead of letting the
framework parse it, so the framework's generator would not see the bodies; and the
site's HTML routes have no place in a machine API's schema.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import msgspec
from litestar import MediaType, Response, get

from api import schemas
from api.common import encode

PREFIX = "/api/v1"
_REF = "#/components/schemas/{name}"

_AUTH_HEADERS = [
    {"name": "X-Orderdesk-Key", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "the key id (odk_...)"},
    {"name": "X-Orderdesk-Timestamp", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "unix seconds; refused when more than 5 minutes from the server's clock"},
    {"name": "X-Orderdesk-Signature", "in": "header", "required": True, "schema": {"type": "string"},
     "description": 'hex HMAC-SHA256(secret, timestamp + "\\n" + METHOD + "\\n" + path + "\\n" + raw body)'},
    {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
     "description": "the same key with the same request within 24 h replays the first answer without effects; "
                    "with another request it is refused (422)"},
]

_ERRORS = {
    "400": "malformed JSON or Idempotency-Key",
    "401": "missing, unknown, revoked key, bad signature, or stale timestamp",
    "403": "the key lacks the route's scope",
    "413": "body or batch too large",
    "422": "field errors (each names its field)",
}


def _body_schema(kind: Any, components: dict) -> dict:
    members = getattr(kind, "__args__", None) or (kind,)
    (schemas_, found) = msgspec.json.schema_components(members, ref_template=_REF)
    components.update(found)
    return schemas_[0] if len(schemas_) == 1 else {"oneOf": list(schemas_)}


@cache
def build_document() -> dict:
    from api.push import PUSH_HANDLERS

    components: dict = {}
    paths: dict[str, dict] = {}
    error_schema = _body_schema(schemas.ErrorReply, components)
    for handler in PUSH_HANDLERS:
        opt = handler.opt
        reply_schema = _body_schema(opt["reply"], components)
        responses = {str(code): {"description": text, "content": {"application/json": {"schema": reply_schema}}}
                     for code, text in opt["replies"].items() if code < 400}
        responses.update({str(code): {"description": text,
                                      "content": {"application/json": {"schema": error_schema}}}
                          for code, text in opt["replies"].items() if code >= 400})
        for code, text in _ERRORS.items():
            responses.setdefault(code, {"description": text, "content": {"application/json": {"schema": error_schema}}})
        doc = (handler.fn.__doc__ or "").strip()
        for path in handler.paths:
            openapi_path = PREFIX + re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
            params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                      for name in re.findall(r"\{(\w+)\}", openapi_path)]
            for method in sorted(handler.http_methods):
                paths.setdefault(openapi_path, {})[method.lower()] = {
                    "operationId": handler.name,
                    "summary": doc.split("\n")[0],
                    "description": " ".join(doc.split()) + f"\n\nScope: `{opt['scope']}`.",
                    "security": [{"orderdeskSignature": []}],
                    "parameters": params + _AUTH_HEADERS,
                    "requestBody": {"required": True,
                                    "content": {"application/json": {"schema": _body_schema(opt["body"], components)}}},
                    "responses": responses,
                }
    return {
        "openapi": "3.1.0",
        "info": {"title": "orderdesk push API", "version": "1",
                 "description": "Orders, shipments, statuses and stock levels from channels, ERPs and warehouse "
                                "systems. Amounts in integer minor units, times in RFC 3339 with an offset."},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"orderdeskSignature": {
                "type": "apiKey", "in": "header", "name": "X-Orderdesk-Signature",
                "description": "HMAC-SHA256 request signature; see the X-Orderdesk-* headers"}},
        },
    }


@get("/schema", name="api_schema", opt={"public": True}, sync_to_thread=False, include_in_schema=False)
def api_schema() -> Response:
    return Response(content=encode(build_document()), media_type=MediaType.JSON)
