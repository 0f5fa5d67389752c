"""Reading the cells of a channel's export: amounts, times and one-string addresses."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation

from core.errors import InvalidInput
from core.i18n import N_
from core.models.types import MAX_MINOR_UNITS
from core.services.orders.addresses import PROVINCES

_CURRENCY_MARKS = str.maketrans("", "", "¥￥$,， \u00a0")


_PLAIN_AMOUNT = re.compile(r"(\d{1,15})(?:\.(\d{1,2}))?$")


def amount_minor(field: str, text: str, *, required: bool = True) -> int:
    """'12.30' -> 1230. Integers and Decimal all the way: no float ever touches money."""
    plain = _PLAIN_AMOUNT.match(text or "")
    if plain and len(plain.group(1)) <= 10:  # longer: checked against the upper bound below
        return int(plain.group(1)) * 100 + int((plain.group(2) or "0").ljust(2, "0"))
    cleaned = (text or "").translate(_CURRENCY_MARKS)
    if not cleaned:
        if required:
            raise InvalidInput(field, N_("An amount is required here."))
        return 0
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(field, N_("%(value)s is not an amount."), value=text) from None
    if not value.is_finite():
        raise InvalidInput(field, N_("%(value)s is not an amount."), value=text)
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise InvalidInput(field, N_("%(value)s has more than two decimals."), value=text)
    if value < 0:
        raise InvalidInput(field, N_("An amount cannot be negative."))
    minor = int(value.quantize(Decimal("0.01")) * 100)
    if minor > MAX_MINOR_UNITS:
        raise InvalidInput(field, N_("An amount over %(max)s is not accepted."), max=f"{MAX_MINOR_UNITS // 100:,}")
    return minor


def quantity(field: str, text: str) -> int:
    cleaned = (text or "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(field, N_("%(value)s is not a whole number."), value=text) from None
    if not value.is_finite() or value != value.to_integral_value():
        raise InvalidInput(field, N_("%(value)s is not a whole number."), value=text)
    if value <= 0:
        raise InvalidInput(field, N_("A quantity must be at least 1."))
    return int(value)


_PLAIN = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d$")
_OFFSET = re.compile(r"\s*(?:UTC|GMT)?\s*([+-])(\d{2}):?(\d{2})$")
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
            "%Y%m%d%H%M%S", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日")


def parse_time(field: str, text: str, zone: tzinfo, *, required: bool = True) -> datetime | None:
    """A time as the export writes it; without an offset it is read in the channel's zone."""
    cleaned = " ".join((text or "").replace("/", "-").split())
    if not cleaned:
        if required:
            raise InvalidInput(field, N_("A time is required here."))
        return None
    if _PLAIN.match(cleaned):  # the common case, without trying every format
        try:
            return datetime(int(cleaned[:4]), int(cleaned[5:7]), int(cleaned[8:10]), int(cleaned[11:13]),
                            int(cleaned[14:16]), int(cleaned[17:19]), tzinfo=zone)
        except ValueError:
            raise InvalidInput(field, N_("%(value)s is not a date and time."), value=text) from None
    offset = _OFFSET.search(cleaned) if len(cleaned) > 10 else None
    if cleaned.endswith("Z"):
        cleaned, offset_text = cleaned[:-1], "+00:00"
    elif offset:
        offset_text = f"{offset.group(1)}{offset.group(2)}:{offset.group(3)}"
        cleaned = cleaned[: offset.start()]
    else:
        offset_text = None
    cleaned = re.sub(r"\.\d+$", "", cleaned)  # fractions of a second carry nothing for an order
    for pattern in _FORMATS:
        try:
            value = datetime.strptime(cleaned, pattern)  # noqa: DTZ007 - the zone is added below
            break
        except ValueError:
            continue
    else:
        raise InvalidInput(field, N_("%(value)s is not a date and time."), value=text)
    if offset_text:
        return datetime.fromisoformat(value.strftime("%Y-%m-%dT%H:%M:%S") + offset_text)
    return value.replace(tzinfo=zone)


# ---- one-string addresses ("浙江省 杭州市 西湖区 文三路100号(310012)") ----

_MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
_SPECIAL = ("香港特别行政区", "澳门特别行政区")
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def _short(province: str) -> str:
    for suffix in _SUFFIXES:
        if province.endswith(suffix):
            return province[: -len(suffix)]
    return province


# Longest first, so that 内蒙古自治区 wins over a shorter reading; looked up by the first two characters.
_PROVINCE_NAMES = sorted(
    [(name, name) for name in PROVINCES] + [(_short(name), name) for name in PROVINCES],
    key=lambda pair: -len(pair[0]),
)
_BY_OPENING: dict[str, list[tuple[str, str]]] = {}
for _name, _full in _PROVINCE_NAMES:
    _BY_OPENING.setdefault(_name[:2], []).append((_name, _full))
_POSTAL = re.compile(r"\s*[(（]?\s*(\d{6})\s*[)）]?\s*$")
_CITY = re.compile(r"^\s*([^\s\d]{1,12}?(?:自治州|地区|盟|市))")
# A district, county, county-level city or banner; never longer than a real one and never a street word.
_DISTRICT = re.compile(r"^\s*([^\s\d路街道号弄巷镇乡村栋幢室]{1,12}?(?:自治县|自治旗|新区|区|县|市|旗))")


def split_address(text: str) -> dict[str, str]:
    """Province, city, district, street and postal code out of one string, or InvalidInput("address")."""
    rest = " ".join((text or "").split())
    postal_code = ""
    match = _POSTAL.search(rest)
    if match and len(rest) > 6:
        postal_code, rest = match.group(1), rest[: match.start()]
    for prefix in ("中国大陆", "中国"):
        if rest.startswith(prefix):
            rest = rest[len(prefix):].lstrip()
    found = next(((name, full) for name, full in _BY_OPENING.get(rest[:2], ()) if rest.startswith(name)), None)
    if found is None:
        raise InvalidInput("address", N_("The address does not start with a province, region or municipality "
                                         "we know: %(value)s"), value=text)
    province = found[1]
    rest = rest[len(found[0]):].lstrip()
    if province in _MUNICIPALITIES or province in _SPECIAL:
        city = province
        # Exports repeat the municipality as its own city ("北京 北京市 朝阳区"), or write 市辖区 / 县.
        for repeat in (province, _short(province), "市辖区", "城区"):
            if rest.startswith(repeat):
                rest = rest[len(repeat):].lstrip()
                break
    else:
        match = _CITY.match(rest)
        if match is None:
            raise InvalidInput("address", N_("The address has no city after the province: %(value)s"), value=text)
        city, rest = match.group(1), rest[match.end():].lstrip()
    district = ""
    match = _DISTRICT.match(rest)
    if match is not None and len(rest) > match.end():
        district, rest = match.group(1), rest[match.end():].lstrip()
    street = rest.strip()
    if len(street) < 2:
        raise InvalidInput("address", N_("The address has no street after the city and district: %(value)s"),
                           value=text)
    return {"province": province, "city": city, "district": district, "street": street,
            "postal_code": postal_code}
