"""Comparing a secret we computed with one a stranger sent, in constant time and without a crash."""

from __future__ import annotations

import hmac


def same_secret(expected: str | bytes, given: str | bytes | None) -> bool:
    """True when `given` equals `expected`. `hmac.compare_digest` raises TypeError on a `str` with a
    non-ASCII character: whatever a stranger sends (a token, a header, a signature) is compared as
    bytes after an ASCII check, so a forged value is a mismatch, never a 500."""
    if given is None:
        return False
    if isinstance(given, str):
        if not given.isascii():
            return False
        given = given.encode()
    if isinstance(expected, str):
        expected = expected.encode()
    return hmac.compare_digest(expected, given)
