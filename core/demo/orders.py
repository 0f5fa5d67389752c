"""Deterministic demo data: the same seed and anchor time give the same orders.

Orders are placed relative to the anchor (by default: now, to the hour) so the
awkward cases stay awkward whenever the demo is seeded: a parcel past its
promised delivery time, one stuck for two days without a carrier update.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from core.carriers.base import NormalizedEvent
from core.db import Database
from core.demo.triage import add_history, bend_orders
from core.models import (
    Carrier,
    Channel,
    Order,
    OrderStatus,
    ServiceTerms,
    Shipment,
    SkuStock,
    TrackingTag,
    Warehouse,
)
from core.services.messaging import outbox as notifications
from core.services.orders import lifecycle as order_service
from core.services.orders.addresses import ShippingAddress, address_of
from core.services.tracking.events import append_events
from core.services.triage.engine import scan

ZONE_CN = ZoneInfo("Asia/Shanghai")
DEMO_PHONE = "13800138000"
DEMO_NAME = "陈小明"

WAREHOUSES = [
    ("HZ", "杭州萧山仓", "浙江省", "杭州市"),
    ("GZ", "广州白云仓", "广东省", "广州市"),
    ("CD", "成都双流仓", "四川省", "成都市"),
]

CARRIER_NAMES = {
    Carrier.SF: "顺丰速运",
    Carrier.ZTO: "中通快递",
    Carrier.YTO: "圆通速递",
    Carrier.JD: "京东物流",
    Carrier.EMS: "EMS",
}

TERMS = [
    (
        "2026.1",
        "售后服务条款（2026年第1版）",
        48,
        5,
        datetime(2025, 12, 1, tzinfo=UTC),
        "1. 发货时效：付款后 48 小时内发货（预售商品以页面标注日期为准）。\n"
        "2. 配送时效：发货后 5 日内送达，偏远地区顺延 2 日。\n"
        "3. 破损赔付：签收时发现外包装破损或商品损坏，请当场拒收或于 48 小时内拍照联系客服，"
        "核实后补发或全额退款。\n"
        "4. 延误补偿：超出承诺送达时间 24 小时以上，补偿 5 元无门槛券。\n"
        "5. 退换货：签收后 7 天无理由退货（定制商品除外），运费由买家承担。",
    ),
    (
        "2026.2",
        "售后服务条款（2026年第2版）",
        24,
        4,
        datetime(2026, 9, 1, tzinfo=UTC),
        "1. 发货时效：付款后 24 小时内发货（预售商品以页面标注日期为准）。\n"
        "2. 配送时效：发货后 4 日内送达，新疆、西藏、青海顺延 3 日。\n"
        "3. 破损赔付：签收 48 小时内凭照片申请，核实后补发或全额退款，无需退回破损商品。\n"
        "4. 延误补偿：超出承诺送达时间 12 小时以上，补偿 10 元无门槛券；超过 72 小时可申请全额退款。\n"
        "5. 退换货：签收后 7 天无理由退货，首次退货运费由商家承担。\n"
        "6. 地址修改：订单发货前可在订单页自助修改收货地址，发货后请联系快递改派。",
    ),
]

PRODUCTS = [
    ("SKU-TEA-001", "西湖龙井 明前特级 250g", 36800),
    ("SKU-TEA-002", "正山小种红茶 礼盒装 200g", 19800),
    ("SKU-CUP-010", "景德镇手绘陶瓷马克杯", 8900),
    ("SKU-BAG-021", "帆布托特包 大容量", 12900),
    ("SKU-PHN-031", "磁吸无线充电宝 10000mAh", 15900),
    ("SKU-PHN-032", "快充数据线 Type-C 1.5m", 2990),
    ("SKU-SKN-041", "玻尿酸补水面膜 10片装", 9900),
    ("SKU-SKN-042", "氨基酸洁面乳 120g", 6900),
    ("SKU-SNK-051", "每日坚果 30袋装", 12800),
    ("SKU-SNK-052", "云南鲜花饼 礼盒 12枚", 5800),
    ("SKU-HOM-061", "纯棉四件套 1.8m床", 39900),
    ("SKU-HOM-062", "记忆棉枕头", 14900),
    ("SKU-KID-071", "儿童益智积木 200粒", 16900),
    ("SKU-SPT-081", "瑜伽垫 加厚 10mm", 7900),
    ("SKU-SPT-082", "跑步运动袜 5双装", 3990),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段"
GIVEN = [
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀兰", "霞", "平", "刚", "桂英", "子涵", "雨桐", "浩然", "梓萱", "一诺", "欣怡", "宇轩", "思远",
]

# (province, city, district, street templates, postal code prefix)
PLACES = [
    ("北京市", "北京市", "朝阳区", ["建国路88号SOHO现代城{b}号楼{r}室", "望京街道阜通东大街{n}号院{b}号楼{r}"], "1000"),
    ("上海市", "上海市", "浦东新区", ["张杨路{n}号{b}栋{r}室", "世纪大道{n}弄{b}号{r}"], "2001"),
    ("上海市", "上海市", "徐汇区", ["漕溪北路{n}号{b}号楼{r}室"], "2000"),
    ("广东省", "深圳市", "南山区", ["科技园南区粤海街道{n}号{b}栋{r}", "蛇口工业八路{n}号{r}室"], "5180"),
    ("广东省", "广州市", "天河区", ["天河北路{n}号{b}座{r}", "珠江新城华夏路{n}号{r}室"], "5106"),
    ("浙江省", "杭州市", "西湖区", ["文三路{n}号{b}幢{r}室", "古墩路{n}号{b}单元{r}"], "3100"),
    ("江苏省", "南京市", "鼓楼区", ["中山北路{n}号{b}栋{r}室"], "2100"),
    ("四川省", "成都市", "武侯区", ["人民南路四段{n}号{b}栋{r}", "科华北路{n}号{r}室"], "6100"),
    ("湖北省", "武汉市", "洪山区", ["珞喻路{n}号{b}栋{r}室"], "4300"),
    ("陕西省", "西安市", "雁塔区", ["高新路{n}号{b}号楼{r}"], "7100"),
    ("山东省", "青岛市", "市南区", ["香港中路{n}号{b}号楼{r}室"], "2660"),
    ("福建省", "厦门市", "思明区", ["湖滨南路{n}号{b}楼{r}"], "3610"),
    ("重庆市", "重庆市", "渝中区", ["解放碑民权路{n}号{r}室"], "4000"),
    ("湖南省", "长沙市", "岳麓区", ["麓山南路{n}号{b}栋{r}"], "4100"),
]

CHANNEL_PREFIX = {
    Channel.TAOBAO: lambda r: str(r.randrange(10**17, 10**18)),
    Channel.JD: lambda r: str(r.randrange(10**11, 10**12)),
    Channel.PINDUODUO: lambda r: f"{r.randrange(100000, 999999)}-{r.randrange(10**14, 10**15)}",
    Channel.DOUYIN: lambda r: str(r.randrange(10**18, 10**19)),
    Channel.SHOPIFY: lambda r: f"#{r.randrange(1001, 99999)}",
}

# Scenarios: what happened to an order. The demo phone owns one of each.
SCENARIOS = [
    "unpaid",
    "cancelled",
    "paid",
    "picking",
    "presale",
    "in_transit",
    "out_for_delivery",
    "late_in_transit",
    "stuck",
    "delivered",
    "delivered_late",
    "delivered_locker",
    "exception",
    "refunded",
]
SCENARIO_WEIGHTS = [4, 2, 6, 4, 1, 10, 3, 3, 3, 30, 4, 5, 2, 2]


@dataclass
class SeedSummary:
    orders: int
    customers: int
    shipments: int
    events: int
    demo_orders: int
    tags: int = 0


def _rng_ref(rng: random.Random) -> str:
    return "OD" + "".join(rng.choice(order_service._REF_ALPHABET) for _ in range(10))


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(["139", "138", "137", "136", "135", "150", "151", "152", "158", "186", "177", "188"])
    return prefix + f"{rng.randrange(10**8):08d}"


def _address(rng: random.Random, recipient: str, phone: str) -> ShippingAddress:
    province, city, district, streets, postal = rng.choice(PLACES)
    street = rng.choice(streets).format(n=rng.randrange(1, 999), b=rng.randrange(1, 30), r=rng.randrange(101, 2999))
    return ShippingAddress(
        recipient=recipient,
        phone=phone,
        province=province,
        city=city,
        district=district,
        street=street,
        postal_code=postal + f"{rng.randrange(10, 99)}",
    )


def _kuaidi100_payload(at: datetime, context: str, area: str, state: str, state_name: str) -> str:
    """One `lastResult.data` entry in the Kuaidi100 push shape, as the raw record."""
    local = at.astimezone(ZONE_CN).strftime("%Y-%m-%d %H:%M:%S")
    return json.dumps(
        {"time": local, "ftime": local, "context": context, "areaName": area, "status": state_name,
         "statusCode": state},
        ensure_ascii=False,
    )


def _tracking_events(
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
    courier = _person(rng)[0] + "师傅"
    courier_phone = _mobile(rng)
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
         f"【{dest}{address.district}】快件派送中，派件员：{_person(rng)}，电话：{courier_phone}，"
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
                raw_payload=_kuaidi100_payload(at, text, area, code, state_name),
            )
        )
    return events


def _placed_at(rng: random.Random, scenario: str, anchor: datetime) -> datetime:
    hours_ago = {
        "unpaid": (1, 20),
        "paid": (2, 20),
        "picking": (3, 20),
        "presale": (24, 96),
        "in_transit": (30, 60),
        "out_for_delivery": (70, 90),
        "late_in_transit": (24 * 7, 24 * 9),
        "stuck": (24 * 4, 24 * 5),
        "exception": (24 * 3, 24 * 6),
    }.get(scenario, (24 * 6, 24 * 60))
    return anchor - timedelta(hours=rng.uniform(*hours_ago))


def _seed_reference_data(session: Session) -> tuple[list[Warehouse], list[ServiceTerms]]:
    warehouses = [Warehouse(code=c, name=n, province=p, city=city) for c, n, p, city in WAREHOUSES]
    terms = [
        ServiceTerms(version=v, title=t, ship_within_hours=h, delivery_within_days=d, effective_from=eff, body=b)
        for v, t, h, d, eff, b in TERMS
    ]
    session.add_all(warehouses + terms)
    session.flush()
    for warehouse in warehouses:
        for sku, _name, _price in PRODUCTS:
            session.add(SkuStock(sku=sku, warehouse_id=warehouse.id, on_hand=200, reserved=0))
    return warehouses, terms


def _build_order(
    session: Session,
    rng: random.Random,
    scenario: str,
    anchor: datetime,
    warehouses: list[Warehouse],
    phone: str,
    name: str,
) -> tuple[Order, int, int]:
    channel = rng.choice(list(CHANNEL_PREFIX))
    warehouse = rng.choice(warehouses)
    placed = _placed_at(rng, scenario, anchor)
    recipient = name if rng.random() < 0.8 else _person(rng)
    recipient_phone = phone if recipient == name else _mobile(rng)
    lines = [
        order_service.NewLine(sku=sku, name=pname, quantity=rng.choice([1, 1, 1, 2, 3]), unit_price_minor=price)
        for sku, pname, price in rng.sample(PRODUCTS, rng.choice([1, 1, 2, 3]))
    ]
    presale_on = (anchor + timedelta(days=rng.randrange(5, 12))).date() if scenario == "presale" else None
    order = order_service.add_order(
        session,
        order_service.NewOrder(
            ref=_rng_ref(rng),
            channel=channel,
            channel_order_no=CHANNEL_PREFIX[channel](rng),
            customer_phone=phone,
            customer_name=name,
            address=_address(rng, recipient, recipient_phone),
            lines=lines,
            shipping_minor=rng.choice([0, 0, 0, 800, 1200]),
            discount_minor=rng.choice([0, 0, 500, 1000]),
            created_at=placed,
            warehouse_id=warehouse.id,
            presale_ships_on=presale_on,
        ),
    )
    if scenario == "unpaid":
        return order, 0, 0
    if scenario == "cancelled":
        order_service.transition(session, order, OrderStatus.CANCELLED, actor="customer", via="import",
                                 at=placed + timedelta(hours=2))
        return order, 0, 0
    paid_at = placed + timedelta(minutes=rng.randrange(1, 40))
    order_service.apply_payment(session, order, paid_minor=order.total_minor, at=paid_at)
    if scenario in ("paid", "presale"):
        return order, 0, 0
    if scenario == "picking":
        order_service.transition(session, order, OrderStatus.PICKING, actor="warehouse", via="system",
                                 at=paid_at + timedelta(minutes=30))
        return order, 0, 0

    if scenario == "late_in_transit":
        # Promise already broken: placed under a promise that has passed.
        order.promised_delivery_by = anchor - timedelta(hours=rng.randrange(6, 40))
    shipped_at = paid_at + timedelta(hours=rng.uniform(3, 20))
    carrier = rng.choice(list(Carrier))
    shipment = order_service.add_shipment(
        session, order, carrier=carrier, tracking_no=_tracking_no(rng, carrier), at=shipped_at,
        actor="warehouse", via="system",
    )
    session.flush()
    events = _tracking_events(
        rng, shipment, carrier, warehouse.city, address_of(order), shipped_at, scenario, anchor
    )
    if scenario == "delivered_late" and events and order.promised_delivery_by:
        order.promised_delivery_by = min(order.promised_delivery_by, events[-1].occurred_at - timedelta(hours=17))
    for event in events:
        # One at a time, as a carrier would have pushed them, each received a little after it happened.
        append_events(session, shipment, [event], source="seed",
                      received_at=event.occurred_at + timedelta(seconds=rng.randrange(20, 600)))
    if scenario == "refunded" and shipment.delivered_at:
        order_service.transition(session, order, OrderStatus.REFUNDED, actor="support", via="admin",
                                 at=shipment.delivered_at + timedelta(days=1))
    return order, 1, len(events)


def _tracking_no(rng: random.Random, carrier: str) -> str:
    if carrier == Carrier.SF:
        return "SF" + str(rng.randrange(10**12, 10**13))
    if carrier == Carrier.JD:
        return "JDVA" + str(rng.randrange(10**10, 10**11))
    if carrier == Carrier.EMS:
        return "E" + str(rng.randrange(10**11, 10**12)) + "CN"
    if carrier == Carrier.ZTO:
        return "7" + str(rng.randrange(10**13, 10**14))
    return "YT" + str(rng.randrange(10**12, 10**13))


def seed_demo(
    db: Database, *, orders: int = 320, seed: int = 20261122, anchor: datetime | None = None
) -> SeedSummary:
    """Fill an empty database with demo data. Refuses a database that already has orders."""
    anchor = anchor or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rng = random.Random(seed)
    with db.write() as session:
        # History, not news: the demo's past events text nobody.
        session.info[notifications.SUPPRESS] = True
        if session.exec(select(func.count()).select_from(Order)).one():
            raise RuntimeError("the database already has orders; demo data goes into an empty database")
        warehouses, _terms = _seed_reference_data(session)
        shipments = events = 0
        plan = [(s, "demo") for s in SCENARIOS]
        plan += [(rng.choices(SCENARIOS, SCENARIO_WEIGHTS)[0], "other") for _ in range(max(orders - len(plan), 0))]
        customers = [(_mobile(rng), _person(rng)) for _ in range(max(orders // 2, 1))]
        for scenario, who in plan:
            phone, name = (DEMO_PHONE, DEMO_NAME) if who == "demo" else rng.choice(customers)
            _order, n_ship, n_events = _build_order(session, rng, scenario, anchor, warehouses, phone, name)
            shipments += n_ship
            events += n_events
        # One SKU almost gone in one warehouse, so the stock figures are not all alike.
        low = session.exec(select(SkuStock).where(SkuStock.sku == "SKU-TEA-001")).first()
        if low is not None:
            low.on_hand = 3
        n_customers = session.exec(select(func.count(func.distinct(Order.customer_id)))).one()
        bend_orders(session, seed=seed, anchor=anchor, demo_phone=DEMO_PHONE)
    triage = scan(db, anchor)
    with db.write() as session:
        add_history(session, seed=seed, anchor=anchor, demo_phone=DEMO_PHONE)
    return SeedSummary(
        orders=len(plan), customers=n_customers, shipments=shipments, events=events, demo_orders=len(SCENARIOS),
        tags=triage.opened,
    )



DEMO_STAFF = [
    ("admin@orderdesk.local", "admin", None),
    ("supervisor@orderdesk.local", "supervisor", None),
    ("support@orderdesk.local", "support", None),
    ("warehouse.hz@orderdesk.local", "warehouse", "HZ"),
    ("compliance@orderdesk.local", "compliance", None),
]


def seed_demo_staff(db: Database, logins_file) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """One account per role with a password generated now (never a shared default),
    written to var/demo-logins.txt for the person running the demo."""
    import os
    import secrets

    from core.models import Staff
    from core.services.actors import Actor
    from core.services.identity.staff import create_staff

    with db.read() as session:
        if session.exec(select(func.count()).select_from(Staff)).one():
            return []
        warehouses = {w.code: w.id for w in session.exec(select(Warehouse)).all()}
    created = []
    for email, role, warehouse in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        create_staff(db, Actor.system(via="demo"), email=email, role=role, password=password + "-demo", name=role,
                     warehouse_id=warehouses.get(warehouse) if warehouse else None)
        created.append((email, role, password + "-demo"))
    logins_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(logins_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for email, role, password in created:
            fh.write(f"{role:<11} {email:<30} {password}\n")
    return created
