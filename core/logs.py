"""Log lines that cannot be forged and carry no phone number.

Every handler of the process formats through `PrivacyFormatter`: the message part of a record (which
may hold a request path or text a stranger typed) has its line breaks and other control characters
escaped, so `%0A` in a URL cannot start a fake log line, and phone numbers are masked wherever they
appear (the SMS gateway's error, a refused address, an exception's text). Tracebacks keep their
line breaks; database errors never carry their parameters (`hide_parameters` on the engine).
"""

from __future__ import annotations

import logging
import re

# A mainland mobile number with or without +86, or any E.164 number: keep the first 3 and last 4 digits.
_PHONE = re.compile(r"(?<![\d])(\+?\d{1,3}[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)|(?<![\w+])(\+\d{3})(\d{4,8})(\d{4})(?!\d)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _mask_phone(match: re.Match) -> str:
    if match.group(2):
        return f"{match.group(1) or ''}{match.group(2)}****{match.group(4)}"
    return f"{match.group(5)}****{match.group(7)}"


def _escape(char: re.Match) -> str:
    code = ord(char.group(0))
    return {10: "\\n", 13: "\\r", 9: "\\t"}.get(code, f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}")


def scrub(text: str) -> str:
    """One line of text, safe to write to a log: control characters escaped, phone numbers masked."""
    return _CONTROL.sub(_escape, _PHONE.sub(_mask_phone, text))


class PrivacyFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = scrub(record.message)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        # The traceback keeps its own lines, but an exception's text may carry a number (a database's
        # "Key (phone)=(...) already exists"); another handler may have cached it unmasked already.
        return _PHONE.sub(_mask_phone, super().format(record))


def configure(level: int = logging.INFO) -> None:
    """Route every record through one handler with the privacy formatter (idempotent)."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, PrivacyFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(PrivacyFormatter(FORMAT))
        root.addHandler(handler)
    for handler in root.handlers:
        if not isinstance(handler.formatter, PrivacyFormatter):
            handler.setFormatter(PrivacyFormatter(FORMAT))
    root.setLevel(level)
    # Outgoing request lines from httpx (SMS, carriers) are noise at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
