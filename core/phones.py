"""Phone numbers: parsed and validated with `phonenumbers`, stored as E.164."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from core.errors import InvalidInput
from core.i18n import N_

DEFAULT_REGION = "CN"


@lru_cache(maxsize=1024)
def _cn_mobile_block(first_five: str) -> bool:
    """Whether 11-digit numbers starting with these five digits are China mainland mobiles.

    libphonenumber's CN mobile pattern constrains at most the first five digits
    (1740[0-5]..., 1610...) and then takes any six, so one check per block decides
    every number in it: an import of 100,000 orders parses a few hundred numbers, not
    100,000."""
    parsed = phonenumbers.parse(first_five + "000000", "CN")
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE


def normalize_phone(raw: str, *, region: str = DEFAULT_REGION, mobile_only: bool = False) -> str:
    """Return the number in E.164 (+8613800138000) or raise InvalidInput.

    A bare 11-digit number is read as a China mainland number; anything else
    needs its country code (+44..., 0044...).
    """
    cleaned = (raw or "").strip()
    if not cleaned:
        raise InvalidInput("phone", N_("Enter a phone number."))
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    national = cleaned[3:] if cleaned.startswith("+86") else cleaned if region == "CN" else ""
    if len(national) == 11 and national.isdigit() and national.isascii() and _cn_mobile_block(national[:5]):
        return "+86" + national
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except NumberParseException as exc:
        raise InvalidInput("phone", N_("This is not a phone number.")) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput("phone", N_("This phone number is not valid."))
    if mobile_only and phonenumbers.number_type(parsed) not in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidInput("phone", N_("Enter a mobile number that can receive text messages."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    try:
        parsed = phonenumbers.parse(e164, DEFAULT_REGION)
    except NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in (
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def national_digits(e164: str) -> str:
    """The number as people write it at home: 13800138000 for a mainland mobile."""
    try:
        parsed = phonenumbers.parse(e164, DEFAULT_REGION)
    except NumberParseException:
        return e164
    if parsed.country_code == 86:
        return str(parsed.national_number)
    return e164


def mask_phone(e164: str) -> str:
    """138****8000: enough for the owner to recognise, too little to call."""
    digits = national_digits(e164)
    if len(digits) <= 7:
        return digits[:2] + "*" * max(len(digits) - 2, 0)
    return digits[:3] + "****" + digits[-4:]


def country_code(e164: str) -> int | None:
    """The calling code of a stored number (86 for mainland China), or None if unreadable."""
    try:
        return phonenumbers.parse(e164, DEFAULT_REGION).country_code
    except NumberParseException:
        return None
