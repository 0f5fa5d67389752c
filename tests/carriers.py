"""Helpers to build Kuaidi100-format payloads for tests."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from core.carriers.kuaidi100 import push_sign

SHANGHAI = ZoneInfo("Asia/Shanghai")


def entry(at: datetime, context: str, code: str = "0", area: str = "杭州市") -> dict:
    local = at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    return {"time": local, "ftime": local, "context": context, "areaName": area, "status": "在途", "statusCode": code}


def push_param(number: str, entries: list[dict], company: str = "shunfeng") -> str:
    return json.dumps(
        {"status": "polling", "billstatus": "got", "message": "", "autoCheck": "0", "comOld": "", "comNew": "",
         "lastResult": {"message": "ok", "state": "0", "status": "200", "condition": "F00", "ischeck": "0",
                        "com": company, "nu": number, "data": entries}},
        ensure_ascii=False,
    )


def signed_form(param: str, salt: str) -> dict[str, str]:
    return {"param": param, "sign": push_sign(param, salt)}
