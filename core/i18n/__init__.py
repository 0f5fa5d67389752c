"""Translations from the gettext catalogs under core/i18n/<locale>/LC_MESSAGES.

Message ids are English; zh_CN is the default language of the UI. Catalogs
are read from the .po files and compiled in memory at first use, so a fresh
checkout needs no compile step and can never serve a stale .mo file.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from core.config import SUPPORTED_LOCALES

CATALOG_DIR = Path(__file__).resolve().parent
DOMAIN = "messages"

current_locale: ContextVar[str] = ContextVar("current_locale", default="zh_CN")


@cache
def translations_for(locale: str) -> NullTranslations:
    po_path = CATALOG_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@cache
def babel_locale(locale: str) -> Locale:
    """Babel's Locale for a code, parsed once: babel parses a locale given as a string
    on every call, which costs more than formatting the date or amount itself."""
    return Locale.parse(locale)


def gettext(message: str) -> str:
    return translations_for(current_locale.get()).gettext(message)


def interpolate(message: str, params: dict | None = None) -> str:
    """A message with its %(name)s parameters filled in (as written, English for our msgids)."""
    return message % params if params else message


def translate(message: str, params: dict | None = None) -> str:
    """The message in the viewer's language, parameters filled in."""
    return interpolate(gettext(message), params)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations_for(current_locale.get()).ngettext(singular, plural, n)


def pick_locale(requested: str | None, default: str) -> str:
    if requested:
        requested = requested.replace("-", "_")
        for locale in SUPPORTED_LOCALES:
            if requested.lower() == locale.lower() or requested.lower() == locale.split("_")[0]:
                return locale
    return default


def html_lang(locale: str) -> str:
    return locale.replace("_", "-")


_ = gettext


def N_(message: str) -> str:  # noqa: N802
    """Mark a message for extraction; it is translated where it is shown."""
    return message
