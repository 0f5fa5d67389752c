"""The Jinja environment: i18n, and filters that format money, time and masks."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core import i18n, labels
from core.config import PROJECT_ROOT, get_settings
from core.money import format_money
from core.phones import mask_phone, national_digits
from core.services.addresses import address_of, present
from core.services.permissions import can
from core.web import triage_labels
from core.web.charts import bar_chart

TEMPLATE_DIR = PROJECT_ROOT / "templates"

_DATETIME_PATTERNS = {
    "short": {"zh_CN": "MM-dd HH:mm", "en": "MMM d, HH:mm"},
    "medium": {"zh_CN": "yyyy-MM-dd HH:mm", "en": "yyyy-MM-dd HH:mm"},
    "full": {"zh_CN": "yyyy-MM-dd HH:mm:ss", "en": "yyyy-MM-dd HH:mm:ss"},
}


def localtime(value: datetime | None, style: str = "medium") -> str:
    """A stored UTC time shown in the viewer's zone (the configured one)."""
    if value is None:
        return ""
    locale = i18n.current_locale.get()
    pattern = _DATETIME_PATTERNS[style][locale if locale in ("zh_CN", "en") else "zh_CN"]
    return format_datetime(value, pattern, tzinfo=get_settings().tz, locale=locale)


def money(minor: int | None, currency: str = "CNY") -> str:
    if minor is None:
        return ""
    return format_money(minor, currency, locale=i18n.current_locale.get())


STATIC_DIR = PROJECT_ROOT / "static"


@cache
def static_url(path: str) -> str:
    """/static/<path>?v=<content hash>: safe to cache forever, changes when the file does."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters.update(
        localtime=localtime,
        money=money,
        mask_phone=mask_phone,
        phone_local=national_digits,
        **labels.FILTERS,
        **triage_labels.FILTERS,
    )
    env.globals.update(
        current_locale=lambda: i18n.current_locale.get(), html_lang=i18n.html_lang, static_url=static_url,
        can=can,
        present_order=lambda order: present(address_of(order), full=False),
        **triage_labels.GLOBALS,
        bar_chart=bar_chart,
    )
    return env
