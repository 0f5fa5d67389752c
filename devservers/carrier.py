"""A simulated carrier aggregator speaking Kuaidi100's formats over real HTTP.

Started with `orderdesk simulate-carrier`; the demo and the tests point the
real client code at it. For every tracking number it plays a deterministic
event stream (seeded by the number) and can misbehave on demand:

- POST /poll/query.do           Kuaidi100 real-time query (signed form), all events revealed so far
- POST /poll                    subscribe: {"company","number","key","parameters":{"callbackurl","salt"}}
- POST /sim/advance             reveal the next event of a parcel, push it to subscribers
                                (JSON {"number", "mode": "normal"|"duplicate"|"out_of_order"|"correction"})
- POST /sim/outage              the next N queries and pushes fail (JSON {"count", "status", "delay"})
- GET  /sim/state               what is revealed and pushed, for tests and the demo
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.params import JSONBody

from core.carriers.kuaidi100 import CARRIER_TIMEZONE, push_sign, query_sign

CITIES = ["杭州市", "上海市", "苏州市", "南京市", "合肥市", "武汉市", "长沙市", "广州市", "深圳市", "成都市"]

STEPS = [
    ("1", "揽收", "【{a}】快件已被揽收，揽收员：{p}"),
    ("0", "在途", "【{a}】快件已到达 {a}转运中心"),
    ("1002", "干线", "【{a}】快件已从 {a}转运中心 发出，下一站 {b}转运中心"),
    ("1001", "到达派件城市", "【{b}】快件已到达 {b}转运中心"),
    ("5", "派件", "【{b}】快件派送中，派件员：{p}，电话：138{n}"),
    ("301", "本人签收", "【{b}】快件已签收，签收人：本人"),
]


@dataclass
class Parcel:
    company: str
    number: str
    events: list[dict]
    revealed: int = 1
    subscribers: list[tuple[str, str]] = field(default_factory=list)  # (callback url, salt)
    pushes: int = 0
    correction: dict | None = None


def _stream(company: str, number: str, start: datetime) -> list[dict]:
    rng = random.Random(hashlib.sha256(f"{company}:{number}".encode()).hexdigest())
    origin, dest = rng.sample(CITIES, 2)
    person = rng.choice("王李张刘陈杨黄赵") + "师傅"
    at = start
    events = []
    for code, name, text in STEPS:
        at += timedelta(hours=rng.uniform(2, 12))
        local = at.astimezone(CARRIER_TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")
        area = dest if "{b}" in text.split("】")[0] else origin
        events.append({
            "time": local, "ftime": local,
            "context": text.format(a=origin, b=dest, p=person, n=f"{rng.randrange(10**8):08d}"),
            "areaName": area, "status": name, "statusCode": code,
        })
    return events


@dataclass
class CarrierState:
    customer: str
    key: str
    start: datetime
    parcels: dict[str, Parcel] = field(default_factory=dict)
    failures_left: int = 0
    failure_status: int = 503
    delay: float = 0.0
    queries: int = 0
    failed: int = 0

    def parcel(self, company: str, number: str) -> Parcel:
        if number not in self.parcels:
            self.parcels[number] = Parcel(company=company, number=number,
                                          events=_stream(company, number, self.start))
        return self.parcels[number]

    async def misbehave(self) -> Response | None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures_left > 0:
            self.failures_left -= 1
            self.failed += 1
            return Response({"message": "simulated outage"}, status_code=self.failure_status)
        return None


def _visible(parcel: Parcel) -> list[dict]:
    events = parcel.events[: parcel.revealed]
    if parcel.correction is not None:
        events = [*events, parcel.correction]
    return sorted(events, key=lambda e: e["time"], reverse=True)


def push_param(parcel: Parcel, events: list[dict]) -> str:
    state = events[0]["statusCode"][:1] if events else "0"
    return json.dumps({
        "status": "shutdown" if state == "3" else "polling", "billstatus": "got", "message": "",
        "autoCheck": "0", "comOld": "", "comNew": "",
        "lastResult": {"message": "ok", "state": state, "status": "200", "condition": "F00",
                       "ischeck": "1" if state == "3" else "0", "com": parcel.company, "nu": parcel.number,
                       "data": events},
    }, ensure_ascii=False)


def create_simulator(*, customer: str, key: str, start: datetime | None = None) -> Litestar:
    state = CarrierState(customer=customer, key=key, start=start or datetime.now(UTC) - timedelta(days=2))

    async def push(parcel: Parcel, events: list[dict]) -> list[int]:
        param = push_param(parcel, events)
        codes = []
        async with httpx.AsyncClient(timeout=10) as client:
            for url, salt in parcel.subscribers:
                if await state.misbehave() is not None:
                    codes.append(0)
                    continue
                response = await client.post(url, data={"param": param, "sign": push_sign(param, salt)})
                parcel.pushes += 1
                codes.append(response.status_code)
        return codes

    @post("/poll/query.do", media_type=MediaType.JSON, status_code=200)
    async def query(request: Request) -> Response:
        state.queries += 1
        form = await request.form()
        param = form.get("param", "")
        if form.get("customer") != state.customer or form.get("sign") != query_sign(param, state.key, state.customer):
            return Response({"result": False, "returnCode": "503", "message": "验证签名失败"}, status_code=200)
        refusal = await state.misbehave()
        if refusal is not None:
            return refusal
        body = json.loads(param)
        parcel = state.parcel(body.get("com", ""), body.get("num", ""))
        events = _visible(parcel)
        return Response({"message": "ok", "nu": parcel.number, "ischeck": "0", "com": parcel.company,
                         "status": "200", "condition": "F00", "state": events[0]["statusCode"][:1],
                         "data": events}, status_code=200)

    @post("/poll", media_type=MediaType.JSON, status_code=200)
    async def subscribe(request: Request) -> dict:
        form = await request.form()
        body = json.loads(form.get("param", "{}"))
        parcel = state.parcel(body["company"], body["number"])
        parameters = body.get("parameters", {})
        parcel.subscribers.append((parameters["callbackurl"], parameters.get("salt", "")))
        return {"result": True, "returnCode": "200", "message": "提交成功"}

    @post("/sim/advance", media_type=MediaType.JSON, status_code=200)
    async def advance(data: JSONBody[dict]) -> dict:
        parcel = state.parcel(data.get("company", "shunfeng"), data["number"])
        mode = data.get("mode", "normal")
        if mode == "correction":
            # The carrier later corrects who signed: a new record for the same moment.
            last = parcel.events[parcel.revealed - 1]
            parcel.correction = {**last, "context": last["context"] + "（更正：由驿站代收）", "statusCode": "304",
                                 "status": "投柜或站签收"}
        elif parcel.revealed < len(parcel.events):
            parcel.revealed += 1
        events = _visible(parcel)
        codes: list[int] = []
        if mode == "out_of_order" and len(events) >= 2:
            codes += await push(parcel, [events[0]])  # the newest alone first, the rest later
            codes += await push(parcel, events[1:])
        else:
            codes += await push(parcel, events)
            if mode == "duplicate":
                codes += await push(parcel, events)
        return {"revealed": parcel.revealed, "push_status": codes}

    @post("/sim/outage", media_type=MediaType.JSON, status_code=200)
    async def outage(data: JSONBody[dict]) -> dict:
        state.failures_left = int(data.get("count", 1))
        state.failure_status = int(data.get("status", 503))
        state.delay = float(data.get("delay", 0))
        return {"failures_left": state.failures_left}

    @get("/sim/state", media_type=MediaType.JSON)
    async def show_state() -> dict:
        return {"queries": state.queries, "failed": state.failed, "parcels": {
            n: {"revealed": p.revealed, "total": len(p.events), "pushes": p.pushes,
                "subscribers": len(p.subscribers)} for n, p in state.parcels.items()}}

    return Litestar(route_handlers=[query, subscribe, advance, outage, show_state])
