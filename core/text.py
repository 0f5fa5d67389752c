"""Text a person typed or a system sent, before it is stored: no invisible control characters.

PostgreSQL refuses a NUL in any text column (the whole transaction fails); other control characters
corrupt exports and logs; and bidirectional overrides (U+202E and friends) make a name or an address
read differently on screen from what is stored, a known way to mislead the staff who act on it. Each is
refused with a field error, never stored and never a 500.
"""

from __future__ import annotations

import re

from core.errors import InvalidInput
from core.i18n import N_

# C0 controls but tab, line feed and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\t\n\r\u2028\u2029]")
# Embeddings, overrides and isolates, and the invisible direction marks.
_BIDI = re.compile(r"[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")

CONTROL_MESSAGE = N_("Remove the invisible control characters from this field.")


def control_problem(text: str | None, *, multiline: bool = False) -> str | None:
    """The message for a text that must not be stored as it is, or None when it is fine.
    `multiline` texts (a note, a description) may keep tabs and line breaks."""
    if not text:
        return None
    if _CONTROL.search(text) or _BIDI.search(text) or (not multiline and _LINE_BREAK.search(text)):
        return CONTROL_MESSAGE
    return None


def check_text(field: str, text: str | None, *, multiline: bool = False) -> None:
    """Raise InvalidInput naming `field` when the text holds control or direction characters."""
    if problem := control_problem(text, multiline=multiline):
        raise InvalidInput(field, problem)
