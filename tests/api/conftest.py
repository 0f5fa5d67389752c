"""Signed clients of the push API.

`integration` is an ERP with every scope; `api(...)` signs and sends a request as it
would (method, path, JSON or raw bytes), with the timestamp and key it is given."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest

from core.config import get_settings
from core.services.actors import Actor
from core.services.channels import api_keys
from core.services.channels.api_keys import CreatedKey


def signed_headers(key: CreatedKey, method: str, path: str, body: bytes, *, timestamp: int | None = None,
                   secret: str | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Orderdesk-Key": key.key_id, "X-Orderdesk-Timestamp": ts, "Content-Type": "application/json",
            "X-Orderdesk-Signature": api_keys.sign(secret or key.secret, ts, method, path, body)}


@dataclass
class Api:
    client: object
    key: CreatedKey

    def send(self, method: str, path: str, payload: object = None, *, raw: bytes | None = None,
             key: CreatedKey | None = None, idempotency_key: str | None = None, timestamp: int | None = None,
             secret: str | None = None, extra_headers: dict[str, str] | None = None):
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        headers = signed_headers(key or self.key, method, path, body, timestamp=timestamp, secret=secret)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        headers.update(extra_headers or {})
        return self.client.request(method, path, content=body, headers=headers)

    def post(self, path: str, payload: object = None, **kwargs):
        return self.send("POST", path, payload, **kwargs)

    def put(self, path: str, payload: object = None, **kwargs):
        return self.send("PUT", path, payload, **kwargs)


def make_key(db, name: str = "Tmall ERP", scopes: str = ",".join(api_keys.SCOPES)) -> CreatedKey:  # noqa: ANN001
    return api_keys.create_key(db, Actor.system(via="test"), get_settings().secret_key, name=name, scopes=scopes)


@pytest.fixture
def integration(db) -> CreatedKey:  # noqa: ANN001
    return make_key(db)


@pytest.fixture
def api(client, integration) -> Api:  # noqa: ANN001
    return Api(client=client, key=integration)


def order_payload(no: str = "TB20261122001", **overrides) -> dict:
    payload = {
        "channel": "taobao",
        "channel_order_no": no,
        "created_at": "2026-11-22T10:15:00+08:00",
        "customer": {"phone": "13800138000", "name": "张三"},
        "address": {"recipient": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
                    "district": "西湖区", "street": "文三路 100 号 2 幢 301 室", "postal_code": "310012"},
        "lines": [{"sku": "TEA-1", "name": "西湖龙井", "quantity": 2, "unit_price_minor": 1990},
                  {"sku": "CUP-1", "name": "玻璃茶杯", "quantity": 1, "unit_price_minor": 8900}],
        "shipping_minor": 1000,
        "discount_minor": 500,
    }
    payload.update(overrides)
    return payload
