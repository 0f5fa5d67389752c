"""Sending text messages through a provider chosen by SMS_PROVIDER."""

from __future__ import annotations

from core.config import Settings
from core.sms.base import SmsError, SmsProvider, SmsReceipt
from core.sms.console import ConsoleSms
from core.sms.http import HttpSms


def get_sms_provider(settings: Settings) -> SmsProvider:
    if settings.sms_provider == "http":
        return HttpSms(
            url=settings.sms_http_url,
            key=settings.sms_http_key,
            secret=settings.sms_http_secret,
            timeout=settings.sms_http_timeout,
            signature=settings.sms_signature,
        )
    return ConsoleSms(settings.var_dir / "sms-outbox.jsonl", signature=settings.sms_signature)


__all__ = ["ConsoleSms", "HttpSms", "SmsError", "SmsProvider", "SmsReceipt", "get_sms_provider"]
