from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.money import format_money, to_minor
from core.phones import mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, e164):
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "12345", "1380013800", "not a number", "+86 100 0000 0000"])
def test_bad_phone_numbers_are_refused_with_a_message(raw):
    with pytest.raises(InvalidInput) as excinfo:
        normalize_phone(raw)
    assert excinfo.value.field == "phone"
    assert excinfo.value.message


def test_landline_is_refused_where_a_mobile_is_needed():
    assert normalize_phone("010 6552 9988") == "+861065529988"
    with pytest.raises(InvalidInput, match="mobile"):
        normalize_phone("010 6552 9988", mobile_only=True)


def test_phone_mask_keeps_first_three_and_last_four():
    assert mask_phone("+8613800138000") == "138****8000"


def test_amounts_become_minor_units_without_floats():
    assert to_minor("19.90", "CNY") == 1990
    assert to_minor(Decimal("0.10"), "CNY") == 10
    assert to_minor("1,234.56", "CNY") == 123456
    assert to_minor("500", "JPY") == 500
    with pytest.raises(InvalidInput):
        to_minor("19.999", "CNY")
    with pytest.raises(InvalidInput):
        to_minor("abc", "CNY")


def test_money_is_formatted_for_the_viewer():
    assert format_money(123456, "CNY", "zh_CN") == "¥1,234.56"
    assert format_money(1990, "USD", "en") == "$19.90"
