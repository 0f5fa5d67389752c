"""Sending a just-queued message right after the response, off the request's path."""

from __future__ import annotations

import logging

from litestar import Request
from litestar.background_tasks import BackgroundTask

from core.email import get_email_provider
from core.services.messaging import delivery
from core.sms import get_sms_provider

logger = logging.getLogger("orderdesk.notifications")


def _deliver(db, settings, ids: list[int]) -> None:  # noqa: ANN001
    try:
        with delivery.wechat_sender(db, settings) as wechat:
            delivery.deliver_due(db, get_sms_provider(settings), wechat=wechat,
                                       email=get_email_provider(settings), ids=ids)
    except Exception:  # the worker retries whatever this attempt could not send
        logger.exception("immediate delivery of %s failed; the outbox worker will retry", ids)


def deliver_soon(request: Request, *ids: int | None) -> BackgroundTask | None:
    wanted = [i for i in ids if i]
    if not wanted:
        return None
    return BackgroundTask(_deliver, request.app.state.db, request.app.state.settings, wanted)
