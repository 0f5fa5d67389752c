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
from core.rendering import triage_labels
from core.rendering.charts import bar_chart
from core.services.identity.permissions import can
from core.services.orders.addresses import address_of, present

TEMPLATE_DIR = PROJECT_ROOT / "templates"

_DATETIME_PATTERNS = {
    "short": {"zh_CN": "MM-dd HH:mm", "en": "MMM d, HH:mm"},
    "medium": {"zh_CN": "yyyy-MM-dd HH:mm", "en": "yyyy-MM-dd HH:mm"},
    "full": {"zh_CN": "yyyy-MM-dd HH:mm:ss", "en": "yyyy-MM-dd HH:mm:ss"},
}
# The same patterns as strftime where no word of the language is in them: a page with
# 30 carrier events formats 30 times, and babel's general formatter is ten times slower.
_NUMERIC_PATTERNS = {
    "MM-dd HH:mm": "%m-%d %H:%M",
    "yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M",
    "yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%M:%S",
}


def localtime(value: datetime | None, style: str = "medium") -> str:
    """A stored UTC time shown in the viewer's zone (the configured one)."""
    if value is None:
        return ""
    locale = i18n.current_locale.get()
    pattern = _DATETIME_PATTERNS[style][locale if locale in ("zh_CN", "en") else "zh_CN"]
    numeric = _NUMERIC_PATTERNS.get(pattern)
    if numeric is not None:
        return value.astimezone(get_settings().tz).strftime(numeric)
    return format_datetime(value, pattern, tzinfo=get_settings().tz, locale=i18n.babel_locale(locale))


def money(minor: int | None, currency: str = "CNY") -> str:
    if minor is None:
        return ""
    return format_money(minor, currency, locale=i18n.current_locale.get())


STATIC_DIR = PROJECT_ROOT / "static"


@cache
def static_version(path: str) -> str | None:
    """The content hash of a file under static/ (None when there is no such file)."""
    file = (STATIC_DIR / path).resolve()
    if not file.is_relative_to(STATIC_DIR.resolve()) or not file.is_file():
        return None
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12]


@cache
def static_url(path: str) -> str:
    """/static/<path>?v=<content hash>: safe to cache forever, changes when the file does."""
    version = static_version(path)
    if version is None:
        raise FileNotFoundError(f"static/{path} does not exist (for htmx: make static/vendor/htmx.min.js)")
    return f"/static/{path}?v={version}"


def build_environment(*, auto_reload: bool = True) -> Environment:
    """`auto_reload=False` (production) trusts the compiled templates: no stat() of every
    template file, include and parent on every render."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        auto_reload=auto_reload,
        cache_size=400,
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
        wechat_enabled=lambda: get_settings().wechat_enabled,
    )
    return env
