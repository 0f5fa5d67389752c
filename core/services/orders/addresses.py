"""Shipping addresses: validation and the snapshot stored on an order."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from core.errors import InvalidInput
from core.i18n import N_
from core.models import Order
from core.phones import mask_phone, national_digits, normalize_phone
from core.text import control_problem

logger = logging.getLogger("orderdesk.addresses")

# Words that mean "leave it with someone else"; the triage rules read these too.
PROXY_WORDS = ("代收", "暂存", "代签", "驿站", "快递柜", "丰巢")


@dataclass(frozen=True)
class ShippingAddress:
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    street: str
    postal_code: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @property
    def one_line(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.street}"

    @property
    def label_line(self) -> str:
        """Everything a shipping label carries, on one line."""
        return f"{self.recipient} {self.phone} {self.one_line} {self.postal_code}".strip()


class AddressErrors(InvalidInput):
    """Several fields may be wrong at once; `errors` maps field to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(field, message)
        self.errors = errors


# China's provincial-level divisions, as the address form offers them.
PROVINCES = (
    "北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省",
    "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省",
    "云南省", "陕西省", "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区", "西藏自治区",
    "宁夏回族自治区", "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区",
)

_LIMITS = {"recipient": 64, "province": 32, "city": 32, "district": 32, "street": 200, "postal_code": 12}


def validate_address(raw: dict[str, str], *, strict: bool = True) -> ShippingAddress:
    """Clean and check an address. `strict` (forms) also wants a known province and
    a district; channel imports may carry less and are flagged by triage instead."""
    errors: dict[str, str] = {key: problem for key in (*_LIMITS, "phone")
                              if (problem := control_problem(raw.get(key)))}
    values = {key: " ".join((raw.get(key) or "").split()) for key in (*_LIMITS, "phone")}
    for key in ("recipient", "province", "city", "street", *(("district",) if strict else ())):
        if not values[key] and key not in errors:
            errors[key] = N_("This field is required.")
    if strict and values["province"] and values["province"] not in PROVINCES:
        errors["province"] = N_("Choose a province from the list.")
    for key, limit in _LIMITS.items():
        if len(values[key]) > limit:
            errors[key] = N_("This is too long.")
    if values["postal_code"] and not (values["postal_code"].isdigit() and len(values["postal_code"]) == 6):
        errors["postal_code"] = N_("A postal code has 6 digits.")
    if values["street"] and len(values["street"]) < 4:
        errors["street"] = N_("Give the street, building and room so the courier can find you.")
    try:
        values["phone"] = normalize_phone(values["phone"])
    except InvalidInput as exc:
        errors.setdefault("phone", exc.message)
    if errors:
        raise AddressErrors(errors)
    return ShippingAddress(**values)


def address_of(order: Order) -> ShippingAddress:
    return ShippingAddress(
        recipient=order.ship_recipient,
        phone=order.ship_phone,
        province=order.ship_province,
        city=order.ship_city,
        district=order.ship_district,
        street=order.ship_street,
        postal_code=order.ship_postal_code,
    )


def apply_address(order: Order, address: ShippingAddress) -> None:
    order.ship_recipient = address.recipient
    order.ship_phone = address.phone
    order.ship_province = address.province
    order.ship_city = address.city
    order.ship_district = address.district
    order.ship_street = address.street
    order.ship_postal_code = address.postal_code


def mask_name(name: str) -> str:
    """张* / 欧阳** : the surname stays, the given name does not."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def masked_one_line(address: ShippingAddress) -> str:
    """Down to the district only: where the parcel goes, not whose door."""
    return f"{address.province}{address.city}{address.district}"


def present(address: ShippingAddress, *, full: bool) -> dict[str, str]:
    """The address as a viewer may see it: in full, or masked (张*, 138****8000, to the district)."""
    if full:
        return {"recipient": address.recipient, "phone": national_digits(address.phone),
                "address": f"{address.one_line} {address.postal_code}".strip()}
    return {"recipient": mask_name(address.recipient), "phone": mask_phone(address.phone),
            "address": masked_one_line(address)}
