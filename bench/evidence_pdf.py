"""Evidence pack rendering: a 50-event order with Chinese text vs the same with Latin
text, and a cached download through the HTTP route.

    .venv/bin/python bench/evidence_pdf.py [--runs 7]

Prints the median render time of each, their ratio (target: Chinese within 1.5x
of Latin) and the median cached download (target: under 20 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="orderdesk-bench-"))
os.environ.update({"ORDERDESK_VAR_DIR": str(VAR), "DATABASE_URL": f"sqlite:///{VAR / 'bench.db'}"})

from core.carriers.base import NormalizedEvent  # noqa: E402
from core.config import get_settings  # noqa: E402
from core.db import Database  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from core.models import ServiceTerms, Shipment  # noqa: E402
from core.pdf.evidence import render_evidence  # noqa: E402
from core.services.actors import Actor  # noqa: E402
from core.services.orders import lifecycle as order_service  # noqa: E402
from core.services.orders import shipping  # noqa: E402
from core.services.orders.addresses import ShippingAddress  # noqa: E402
from core.services.tracking import evidence  # noqa: E402
from core.services.tracking.events import append_events  # noqa: E402

CHINESE = {
    "name": "欧阳晓明", "province": "广东省", "city": "深圳市", "district": "南山区",
    "street": "科技园南区粤海街道高新南九道 88 号 3 栋 1201 室", "item": "西湖龙井 明前特级 250g 礼盒装",
    "event": "【{city}】快件已到达 {city}转运中心，正在分拣，下一站 深圳南山营业部，派件员：王师傅 13800001111",
    "cities": ["杭州市", "嘉兴市", "上海市", "苏州市", "无锡市", "南京市", "合肥市", "武汉市", "长沙市", "广州市"],
    "terms": "1. 发货时效：付款后 24 小时内发货。\n2. 破损赔付：签收 48 小时内凭照片申请，核实后补发或全额退款。\n"
             "3. 延误补偿：超出承诺送达时间 12 小时以上，补偿 10 元无门槛券。",
}
LATIN = {
    "name": "Jonathan Appleseed", "province": "California", "city": "San Francisco", "district": "Mission",
    "street": "1455 Market Street, Suite 1200", "item": "West Lake Longjing green tea, 250 g gift box",
    "event": "[{city}] Parcel arrived at the {city} sorting hub, being sorted, next stop Mission delivery station, "
             "courier Mr Wang 13800001111",
    "cities": ["Hangzhou", "Jiaxing", "Shanghai", "Suzhou", "Wuxi", "Nanjing", "Hefei", "Wuhan", "Changsha",
               "Guangzhou"],
    "terms": "1. Ships within 24 h of payment.\n2. Damage: claim within 48 h with photos for a resend or a full "
             "refund.\n3. Delay: more than 12 h past the promise earns a 10 yuan voucher.",
}


def build_order(db: Database, text: dict, number: str) -> str:
    order = order_service.create_order(db, order_service.NewOrder(
        channel="jd", channel_order_no=number, customer_phone="13800138000", customer_name=text["name"],
        address=ShippingAddress(recipient=text["name"], phone="+8613800138000", province=text["province"],
                                city=text["city"], district=text["district"], street=text["street"]),
        lines=[order_service.NewLine(sku="SKU-1", name=text["item"], quantity=2, unit_price_minor=36800)],
        created_at=datetime.now(UTC) - timedelta(days=12),
    ))
    order_service.mark_paid(db, order.ref, paid_minor=order.total_minor, at=datetime.now(UTC) - timedelta(days=12))
    shipment = shipping.mark_shipped(db, Actor.integration("bench", via="api"), order.ref, carrier="SF",
                                     tracking_no=number, at=datetime.now(UTC) - timedelta(days=11))
    start = datetime.now(UTC) - timedelta(days=10)
    events = [
        NormalizedEvent(start + timedelta(hours=4 * i), "0", text["event"].format(city=text["cities"][i % 10]),
                        text["cities"][i % 10], "in_transit", None, "{}")
        for i in range(50)
    ]
    with db.write() as session:
        append_events(session, session.get(Shipment, shipment.id), events, source="push")
    return order.ref


def median_ms(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    settings = get_settings()
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    with db.write() as session:
        session.add(ServiceTerms(version="bench", title="Service terms", body=CHINESE["terms"] + "\n" + LATIN["terms"],
                                 effective_from=datetime(2020, 1, 1, tzinfo=UTC)))
    contents = {}
    for label, text in (("chinese", CHINESE), ("latin", LATIN)):
        ref = build_order(db, text, f"SF{label}")

        def capture(content, audience, label=label):
            contents[label] = content
            return b"%PDF-placeholder"

        evidence.get_or_build_pack(db, ref, audience="staff", render=capture)
        contents[label + "_ref"] = ref

    render_evidence(contents["latin"], "customer", settings)  # warm-up: fonts, templates
    results = {
        label: median_ms(lambda label=label: render_evidence(contents[label], "customer", settings), args.runs)
        for label in ("latin", "chinese")
    }
    pages = {label: len(render_evidence(contents[label], "customer", settings)) for label in ("latin", "chinese")}

    # A cached download through the real route: session check, ownership, cache hit, audit row.
    from litestar.testing import TestClient

    from app import create_app
    from core.services.identity.customer_sessions import start_session

    token = start_session(db, phone="+8613800138000")
    with TestClient(app=create_app(settings, db)) as client:
        client.cookies.set("od_session", token)
        url = f"/orders/{contents['chinese_ref']}/evidence.pdf"
        first = client.get(url)
        assert first.status_code == 200 and first.content.startswith(b"%PDF"), first.status_code
        cached = median_ms(lambda: client.get(url), max(args.runs * 3, 20))
        assert client.get(url).content == first.content

    print(f"evidence pack, 50 events, {args.runs} runs each (median):")
    print(f"  Latin text    {results['latin']:8.1f} ms   ({pages['latin'] / 1024:.0f} KiB)")
    print(f"  Chinese text  {results['chinese']:8.1f} ms   ({pages['chinese'] / 1024:.0f} KiB)")
    print(f"  ratio Chinese/Latin = {results['chinese'] / results['latin']:.2f}   (target <= 1.5)")
    print(f"  cached download via HTTP route: {cached:.1f} ms   (target < 20 ms)")


if __name__ == "__main__":
    main()
