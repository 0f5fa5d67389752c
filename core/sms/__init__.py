"""Sending text messages through a provider chosen by SMS_PROVIDER."""

from __future__ import annotations

from functools import lru_cache

from core.config import Settings
from core.sms.base import SmsError, SmsProvider, SmsReceipt
from core.sms.console import ConsoleSms
from core.sms.http import HttpSms


def get_sms_provider(settings: Settings) -> SmsProvider:
    if settings.sms_provider == "http":
        return _http_gateway(settings)
    return ConsoleSms(settings.var_dir / "sms-outbox.jsonl", signature=settings.sms_signature)


@lru_cache(maxsize=4)
def _http_gateway(settings: Settings) -> HttpSms:
    """One client per process and settings: building an HTTP client loads the CA bundle
    (milliseconds of CPU), which every sign-in request paid before it was even checked
    against the rate limits; one client also keeps its connections to the gateway open."""
    return HttpSms(
        url=settings.sms_http_url,
        key=settings.sms_http_key,
        secret=settings.sms_http_secret,
        timeout=settings.sms_http_timeout,
        signature=settings.sms_signature,
    )


__all__ = ["ConsoleSms", "HttpSms", "SmsError", "SmsProvider", "SmsReceipt", "get_sms_provider"]
