"""Money is an integer count of minor units plus a currency code; never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision

from core.errors import InvalidInput
from core.i18n import N_, babel_locale


def minor_digits(currency: str) -> int:
    return get_currency_precision(currency)


def to_minor(amount: str | int | Decimal, currency: str) -> int:
    """Parse '12.30' (or a Decimal) into 1230 for CNY, refusing sub-minor precision."""
    try:
        value = Decimal(str(amount).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise InvalidInput("amount", N_("%(amount)s is not an amount of money."), amount=amount) from exc
    scaled = value.scaleb(minor_digits(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidInput("amount", N_("%(amount)s has more decimals than %(currency)s allows."),
                           amount=amount, currency=currency)
    return int(scaled)


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_digits(currency))


def format_money(minor: int, currency: str, locale: str = "zh_CN") -> str:
    return format_currency(to_decimal(minor, currency), currency, locale=babel_locale(locale))
