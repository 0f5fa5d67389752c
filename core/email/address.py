"""E-mail addresses: a careful syntax check (no DNS look-up), stored with the domain in lower case
and in ASCII (an internationalised domain as its xn-- form, which every mail server accepts)."""

from __future__ import annotations

import re

from core.errors import InvalidInput
from core.i18n import N_

MAX_LENGTH = 254
# The dot-atom of RFC 5322 for the local part (no quoted strings: no shop exports them),
# host names of letters, digits and hyphens (an internationalised domain arrives as Unicode
# letters, which \w accepts) with a top-level label of two letters or more.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"(?!-)[\w-]{1,63}(?<!-)")


def normalize_email(raw: str, *, field: str = "email") -> str:
    """The address with its domain lower-cased, or InvalidInput."""
    cleaned = (raw or "").strip()
    local, at, domain = cleaned.rpartition("@")
    labels = domain.split(".")
    if (not at or len(cleaned) > MAX_LENGTH or len(local) > 64 or not _LOCAL.fullmatch(local)
            or len(labels) < 2 or not all(_LABEL.fullmatch(label) and "_" not in label for label in labels)
            or len(labels[-1]) < 2 or labels[-1].isdigit()):
        raise InvalidInput(field, N_("This is not an e-mail address."))
    try:
        ascii_domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(field, N_("This is not an e-mail address.")) from None
    if len(local) + 1 + len(ascii_domain) > MAX_LENGTH:
        raise InvalidInput(field, N_("This is not an e-mail address."))
    return f"{local}@{ascii_domain}"
