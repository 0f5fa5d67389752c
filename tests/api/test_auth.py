"""Who may push: a valid signature over the exact body, a live key, a fresh timestamp, the route's scope."""

from __future__ import annotations

import time

from sqlmodel import select

from core.models import ApiKey, Order
from core.services.actors import Actor
from core.services.channels import api_keys
from tests.api.conftest import make_key, order_payload


def order_count(db) -> int:  # noqa: ANN001
    with db.read() as session:
        return len(session.exec(select(Order)).all())


def test_valid_signature_is_accepted(api, db):
    response = api.post("/api/v1/orders", order_payload())
    assert response.status_code == 200, response.text
    assert order_count(db) == 1


def test_wrong_signature_is_refused_and_changes_nothing(api, db):
    response = api.post("/api/v1/orders", order_payload(), secret="ods_not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"
    assert order_count(db) == 0


def test_body_changed_after_signing_is_refused(api, db, integration):
    from tests.api.conftest import signed_headers

    signed = b'{"channel": "taobao"}'
    headers = signed_headers(integration, "POST", "/api/v1/orders", signed)
    response = api.client.post("/api/v1/orders", content=signed.replace(b"taobao", b"jd"), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"


def test_signature_for_another_path_is_refused(api, integration):
    from tests.api.conftest import signed_headers

    body = b'{"levels": [{"sku": "TEA-1", "warehouse_code": "HZ", "on_hand": 5}]}'
    headers = signed_headers(integration, "PUT", "/api/v1/orders", body)
    response = api.client.put("/api/v1/stock", content=body, headers=headers)
    assert response.status_code == 401


def test_unknown_key_is_refused(api, db):
    stranger = api_keys.CreatedKey(key_id="odk_00000000000000000000",
                                   secret=api_keys.signing_secret("another-secret-key-of-a-stranger-000", "odk_0"),
                                   integration="?", scopes=[])
    response = api.post("/api/v1/orders", order_payload(), key=stranger)
    assert response.status_code == 401
    assert response.json()["error"] == "unknown_key"
    assert order_count(db) == 0


def test_revoked_key_is_refused(api, db, integration):
    api_keys.revoke_key(db, Actor.system(via="test"), integration.key_id)
    response = api.post("/api/v1/orders", order_payload())
    assert response.status_code == 401
    assert response.json() == {"error": "revoked_key", "message": "this API key was revoked", "errors": []}
    assert order_count(db) == 0


def test_missing_headers_are_refused(api):
    response = api.client.post("/api/v1/orders", json=order_payload())
    assert response.status_code == 401
    assert response.json()["error"] == "missing_signature"
    assert response.headers["www-authenticate"] == "OrderdeskHMAC"


def test_key_without_the_scope_gets_403(api, db):
    warehouse = make_key(db, name="WMS", scopes="shipments:write,stock:write")
    response = api.post("/api/v1/orders", order_payload(), key=warehouse)
    assert response.status_code == 403
    assert response.json()["error"] == "missing_scope"
    assert order_count(db) == 0


def test_old_timestamp_is_refused_as_a_replay(api, db):
    six_minutes_ago = int(time.time()) - 6 * 60
    response = api.post("/api/v1/orders", order_payload(), timestamp=six_minutes_ago)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "stale_timestamp"
    assert "5 minutes" in body["message"]
    assert order_count(db) == 0


def test_timestamp_far_in_the_future_is_refused(api):
    response = api.post("/api/v1/orders", order_payload(), timestamp=int(time.time()) + 6 * 60)
    assert response.status_code == 401
    assert response.json()["error"] == "stale_timestamp"


def test_timestamp_four_minutes_old_is_still_accepted(api):
    response = api.post("/api/v1/orders", order_payload(), timestamp=int(time.time()) - 4 * 60)
    assert response.status_code == 200


def test_database_holds_no_secret(db, integration):
    with db.read() as session:
        [key] = session.exec(select(ApiKey)).all()
    stored = " ".join(str(value) for value in key.model_dump().values())
    assert integration.secret not in stored
    assert integration.secret.removeprefix("ods_") not in stored
    assert key.secret_hash != integration.secret


def test_key_made_under_another_secret_key_is_refused(api, db, integration):
    with db.write() as session:
        key = session.exec(select(ApiKey)).one()
        key.secret_hash = "0" * 64  # as if SECRET_KEY had changed since
        session.add(key)
    response = api.post("/api/v1/orders", order_payload())
    assert response.status_code == 401
    assert response.json()["error"] == "key_invalidated"


def test_a_key_over_its_rate_limit_gets_429_and_others_do_not(api, db):
    from core.config import get_settings

    chatty = api_keys.create_key(db, Actor.system(via="test"), get_settings().secret_key, name="Chatty ERP",
                                 scopes="orders:write", rate_limit_per_minute=3)
    statuses = [api.post("/api/v1/orders", order_payload(f"R{n}"), key=chatty).status_code for n in range(4)]
    assert statuses[:3] == [200, 200, 200]
    if statuses[3] == 200:  # the minute turned between the calls: the fourth opened a new window
        statuses.append(api.post("/api/v1/orders", order_payload("R5"), key=chatty).status_code)
        assert statuses[4] == 200
        return
    refused = api.post("/api/v1/orders", order_payload("R9"), key=chatty)
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert order_count(db) == 3
    assert api.post("/api/v1/orders", order_payload("OTHER")).status_code == 200  # another key, its own count


def test_old_rate_windows_are_purged(api, db):
    from datetime import timedelta

    from core.models import ApiRateWindow, utcnow

    api.post("/api/v1/orders", order_payload())
    assert api_keys.purge_rate_windows(db) == 0
    assert api_keys.purge_rate_windows(db, utcnow() + timedelta(hours=2)) == 1
    with db.read() as session:
        assert session.exec(select(ApiRateWindow)).all() == []
