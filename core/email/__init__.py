"""Sending e-mail through a provider chosen by EMAIL_PROVIDER."""

from __future__ import annotations

from core.config import Settings
from core.email.base import EmailError, EmailProvider, EmailReceipt
from core.email.console import ConsoleEmail
from core.email.smtp import SmtpEmail


def get_email_provider(settings: Settings) -> EmailProvider | None:
    """None when e-mail is off (EMAIL_PROVIDER=off)."""
    if settings.email_provider == "smtp":
        return SmtpEmail(host=settings.smtp_host, port=settings.smtp_port, sender=settings.email_from,
                         username=settings.smtp_username, password=settings.smtp_password,
                         starttls=settings.smtp_starttls, timeout=settings.smtp_timeout)
    if settings.email_provider == "console":
        return ConsoleEmail(settings.var_dir / "email-outbox.jsonl", sender=settings.email_from)
    return None


__all__ = ["ConsoleEmail", "EmailError", "EmailProvider", "EmailReceipt", "SmtpEmail", "get_email_provider"]
