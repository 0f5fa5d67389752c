"""Carrier webhooks: Kuaidi100 subscription pushes."""

from __future__ import annotations

import hashlib
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


def _reply(body: dict, status_code: int) -> Response:
    return Response(content=body, status_code=status_code, media_type=MediaType.JSON)


@post("/webhooks/kuaidi100", name="kuaidi100_push", exclude_from_csrf=True, request_max_body_size=1024 * 1024)
async def kuaidi100_push(request: Request, db: DB) -> Response:
    settings: Settings = request.app.state.settings
    salt = settings.push_salt
    if not salt:
        logger.error("kuaidi100 push refused: KUAIDI100_SALT is not configured")
        return _reply(kuaidi100.failure_reply("receiver not configured", "503"), HTTP_503_SERVICE_UNAVAILABLE)
    raw = await request.body()
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        logger.warning("kuaidi100 push refused: body is not a form")
        return _reply(kuaidi100.failure_reply("body must be application/x-www-form-urlencoded", "400"),
                      HTTP_400_BAD_REQUEST)
    param = (form.get("param") or [""])[0]
    sign = (form.get("sign") or [""])[0]
    # The signature covers the param string exactly as sent: check it before reading it.
    if not param or not kuaidi100.verify_push_sign(param, sign, salt):
        logger.warning("kuaidi100 push refused: bad signature (%d bytes)", len(raw))
        return _reply(kuaidi100.failure_reply("signature mismatch", "401"), HTTP_401_UNAUTHORIZED)
    try:
        snapshot, skipped = kuaidi100.parse_push(param, now=utcnow())
    except kuaidi100.PushRejected as exc:
        logger.warning("kuaidi100 push refused: %s", exc)
        return _reply(kuaidi100.failure_reply(str(exc), str(exc.status_code)), exc.status_code)
    for reason in skipped:
        logger.warning("kuaidi100 push %s %s: skipped %s", snapshot.carrier, snapshot.tracking_no, reason)
    event_key = hashlib.sha256(param.encode("utf-8")).hexdigest()
    try:
        result = await to_thread.run_sync(
            lambda: tracking.ingest_push(db, snapshot, source="kuaidi100", event_key=event_key, body=param)
        )
    except NotFound:
        logger.warning("kuaidi100 push refused: unknown tracking number %s %s", snapshot.carrier, snapshot.tracking_no)
        return _reply(kuaidi100.failure_reply("unknown tracking number", "404"), HTTP_404_NOT_FOUND)
    logger.info("kuaidi100 push %s %s: %d new, %d already known%s", snapshot.carrier, snapshot.tracking_no,
                result.added, result.duplicates, " (replayed push)" if result.replayed_push else "")
    return _reply(kuaidi100.SUCCESS_REPLY, HTTP_200_OK)
