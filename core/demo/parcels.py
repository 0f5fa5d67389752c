"""The demo's parcels: tracking numbers and the carrier events of each scenario, in Kuaidi100's shape."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.carriers.base import NormalizedEvent
from core.demo.shop import mobile, person
from core.models import Carrier, Shipment, TrackingTag
from core.services.orders.addresses import ShippingAddress

ZONE_CN = ZoneInfo("Asia/Shanghai")

CARRIER_NAMES = {
    Carrier.SF: "顺丰速运",
    Carrier.ZTO: "中通快递",
    Carrier.YTO: "圆通速递",
    Carrier.JD: "京东物流",
    Carrier.EMS: "EMS",
}


def kuaidi100_payload(at: datetime, context: str, area: str, state: str, state_name: str) -> str:
    """One `lastResult.data` entry in the Kuaidi100 push shape, as the raw record."""
    local = at.astimezone(ZONE_CN).strftime("%Y-%m-%d %H:%M:%S")
    return json.dumps(
        {"time": local, "ftime": local, "context": context, "areaName": area, "status": state_name,
         "statusCode": state},
        ensure_ascii=False,
    )


def tracking_events(
    rng: random.Random,
    shipment: Shipment,
    carrier: str,
    origin_city: str,
    address: ShippingAddress,
    start: datetime,
    scenario: str,
    anchor: datetime,
) -> list[NormalizedEvent]:
    name = CARRIER_NAMES[Carrier(carrier)]
    dest = address.city
    courier = person(rng)[0] + "师傅"
    courier_phone = mobile(rng)
    steps: list[tuple[str, str, str, str, str, str | None]] = [
        # (raw code, state name, tag, text, area, sub_status)
        ("1", "揽收", TrackingTag.INFO_RECEIVED,
         f"【{origin_city}】{name} 已收取快件，揽收员：{courier}", origin_city, None),
        ("0", "在途", TrackingTag.IN_TRANSIT, f"【{origin_city}】快件已到达 {origin_city}转运中心", origin_city, None),
        ("0", "在途", TrackingTag.IN_TRANSIT,
         f"【{origin_city}】快件已从 {origin_city}转运中心 发出，下一站 {dest}转运中心", origin_city, None),
        ("0", "在途", TrackingTag.IN_TRANSIT, f"【{dest}】快件已到达 {dest}转运中心", dest, None),
        ("0", "在途", TrackingTag.IN_TRANSIT,
         f"【{dest}】快件已从 {dest}转运中心 发出，下一站 {address.district}营业部", dest, None),
        ("5", "派件", TrackingTag.OUT_FOR_DELIVERY,
         f"【{dest}{address.district}】快件派送中，派件员：{person(rng)}，电话：{courier_phone}，"
         "请保持电话畅通", dest + address.district, None),
    ]
    if scenario in ("delivered", "delivered_late", "refunded"):
        steps.append(("3", "签收", TrackingTag.DELIVERED,
                      f"【{dest}{address.district}】快件已签收，签收人：本人。感谢使用{name}，期待再次为您服务",
                      dest + address.district, "signed_by_recipient"))
    elif scenario == "delivered_locker":
        steps.append(("3", "签收", TrackingTag.DELIVERED,
                      f"【{dest}{address.district}】快件已由 菜鸟驿站（{address.district}店）代收，"
                      "如有疑问请联系派件员", dest + address.district, "locker_or_station"))
    elif scenario == "exception":
        steps = steps[:4] + [
            ("2", "疑难", TrackingTag.EXCEPTION,
             f"【{dest}】快件外包装破损，已联系发件人处理，给您带来不便敬请谅解", dest, "damaged"),
        ]
    elif scenario == "out_for_delivery":
        pass
    elif scenario in ("in_transit", "late_in_transit"):
        steps = steps[: rng.randrange(3, 5)]
    elif scenario == "stuck":
        steps = steps[:3]

    hours = [0.0]
    for _ in steps[1:]:
        hours.append(hours[-1] + rng.uniform(2.0, 14.0))
    if scenario == "delivered_late":
        hours = [h * 2.6 for h in hours]
    times = [start + timedelta(hours=offset, minutes=rng.randrange(0, 59)) for offset in hours]
    if scenario == "stuck":
        # The last carrier update is more than 48 h old.
        gap = anchor - timedelta(hours=rng.uniform(50, 70)) - times[-1]
        times = [t + gap for t in times]
    events = []
    for (code, state_name, tag, text, area, sub), at in zip(steps, times, strict=True):
        if at > anchor:
            break
        events.append(
            NormalizedEvent(
                occurred_at=at,
                raw_status_code=code,
                raw_text=text,
                location=area,
                tag=tag,
                sub_status=sub,
                raw_payload=kuaidi100_payload(at, text, area, code, state_name),
            )
        )
    return events


def tracking_no(rng: random.Random, carrier: str) -> str:
    if carrier == Carrier.SF:
        return "SF" + str(rng.randrange(10**12, 10**13))
    if carrier == Carrier.JD:
        return "JDVA" + str(rng.randrange(10**10, 10**11))
    if carrier == Carrier.EMS:
        return "E" + str(rng.randrange(10**11, 10**12)) + "CN"
    if carrier == Carrier.ZTO:
        return "7" + str(rng.randrange(10**13, 10**14))
    return "YT" + str(rng.randrange(10**12, 10**13))
