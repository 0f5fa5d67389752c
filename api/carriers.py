"""Carrier webhooks: Kuaidi100 subscription pushes.

Kuaidi100 wants {"result": true, "returnCode": "200", "message": "成功"} within 20 s and
retries anything else; the returnCode repeats the HTTP status, which says what went wrong."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from anyio import to_thread
from litestar import MediaType, Request, Response, post
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_404_NOT_FOUND,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from core.carriers import kuaidi100
from core.config import Settings
from core.errors import NotFound
from core.models import utcnow
from core.services.tracking import events as tracking
from core.web.deps import DB

logger = logging.getLogger("orderdesk.webhooks")


def _answer(status_code: int, message: str = "成功") -> Response:
    body = {"result": status_code == HTTP_200_OK, "returnCode": str(status_code), "message": message}
    return Response(content=body, status_code=status_code, media_type=MediaType.JSON)


@post("/webhooks/kuaidi100", name="kuaidi100_push", exclude_from_csrf=True, request_max_body_size=1024 * 1024)
async def kuaidi100_push(request: Request, db: DB) -> Response:
    settings: Settings = request.app.state.settings
    salt = settings.push_salt
    if not salt:
        logger.error("kuaidi100 push refused: KUAIDI100_SALT is not configured")
        return _answer(HTTP_503_SERVICE_UNAVAILABLE, "receiver not configured")
    raw = await request.body()
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        logger.warning("kuaidi100 push refused: body is not a form")
        return _answer(HTTP_400_BAD_REQUEST, "body must be application/x-www-form-urlencoded")
    param = (form.get("param") or [""])[0]
    sign = (form.get("sign") or [""])[0]
    # The signature covers the param string exactly as sent: check it before reading it.
    if not param or not kuaidi100.verify_push_sign(param, sign, salt):
        logger.warning("kuaidi100 push refused: bad signature (%d bytes)", len(raw))
        return _answer(HTTP_401_UNAUTHORIZED, "signature mismatch")
    try:
        snapshot, skipped = kuaidi100.parse_push(param, now=utcnow())
    except kuaidi100.PushRejected as exc:
        logger.warning("kuaidi100 push refused: %s", exc)
        return _answer(HTTP_404_NOT_FOUND if isinstance(exc, kuaidi100.UnknownCompany) else HTTP_400_BAD_REQUEST,
                       str(exc))
    for reason in skipped:
        logger.warning("kuaidi100 push %s %s: skipped %s", snapshot.carrier, snapshot.tracking_no, reason)
    actor = tracking.carrier_actor(request.client.host if request.client else "")
    try:
        result = await to_thread.run_sync(
            lambda: tracking.record_push(db, actor, snapshot, source="kuaidi100", body=param))
    except NotFound:
        logger.warning("kuaidi100 push refused: unknown tracking number %s %s", snapshot.carrier, snapshot.tracking_no)
        return _answer(HTTP_404_NOT_FOUND, "unknown tracking number")
    logger.info("kuaidi100 push %s %s: %d new, %d already known%s", snapshot.carrier, snapshot.tracking_no,
                result.added, result.duplicates, " (replayed push)" if result.replayed_push else "")
    return _answer(HTTP_200_OK)
