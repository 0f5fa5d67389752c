"""/admin/api-keys: administrators only; the secret shown once; every change audited."""

from __future__ import annotations

import json

import pytest

from core.config import get_settings
from core.services.actors import Actor, ActorKind
from core.services.audit import log as audit
from core.services.channels import api_keys
from tests.admin.conftest import soup


def create(client, name: str = "WMS Hangzhou", scopes: tuple[str, ...] = ("shipments:write", "stock:write")):  # noqa: ANN001
    return client.post("/admin/api-keys", data={"_csrf_token": client.csrf, "name": name, "scopes": list(scopes),
                                                "rate_limit": "120"}, follow_redirects=False)


def test_admin_creates_a_key_and_sees_its_secret_once(db, as_staff):
    admin = as_staff("admin")
    response = create(admin)
    assert response.status_code == 200
    page = soup(response)
    key_id = page.select_one("#new-key-id").get_text()
    secret = page.select_one("#new-key-secret").get_text()
    assert secret == api_keys.signing_secret(get_settings().secret_key, key_id)
    [row] = api_keys.list_keys(db)
    assert (row.key_id, row.integration, row.scopes, row.created_by) == (
        key_id, "WMS Hangzhou", ["shipments:write", "stock:write"], "admin@shop.test")
    listing = admin.get("/admin/api-keys")
    assert secret not in listing.text
    assert key_id in [cell.get_text() for cell in soup(listing).select("td.mono")]
    [entry] = audit.search(db, action="api_key_create").entries
    assert entry.actor == "admin@shop.test"
    assert json.loads(entry.detail) == {"integration": "WMS Hangzhou", "key_id": key_id, "rate_limit_per_minute": 120,
                                        "scopes": ["shipments:write", "stock:write"]}
    assert row.rate_limit_per_minute == 120


def test_missing_scope_is_explained_beside_the_field(db, as_staff):
    admin = as_staff("admin")
    response = create(admin, scopes=())
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one("#e-scopes").get_text() == "请至少选择一个权限范围。"  # the admin's default language
    assert page.select_one("#k-name")["value"] == "WMS Hangzhou"
    assert api_keys.list_keys(db) == []


def test_a_rate_limit_that_is_not_a_number_is_refused_beside_the_field(db, as_staff):
    admin = as_staff("admin")
    response = admin.post("/admin/api-keys", data={"_csrf_token": admin.csrf, "name": "ERP", "scopes": ["orders:write"],
                                                   "rate_limit": "lots"}, follow_redirects=False)
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one("#k-rate")["aria-invalid"] == "true"
    assert page.select_one("#e-rate").get_text().strip()
    assert api_keys.list_keys(db) == []
    assert audit.search(db, action="api_key_create").entries == []


def test_a_key_made_from_the_command_line_is_signed_cli_and_not_in_the_staff_audit_trail(db):
    created = api_keys.create_key(db, Actor(ActorKind.SYSTEM, "cli", via="cli"), get_settings().secret_key,
                                  name="ERP", scopes="orders:write", rate_limit_per_minute=60)
    api_keys.revoke_key(db, Actor(ActorKind.SYSTEM, "cli", via="cli"), created.key_id)
    [row] = api_keys.list_keys(db)
    assert (row.created_by, row.rate_limit_per_minute, row.revoked_at is not None) == ("cli", 60, True)
    assert audit.search(db).entries == []


def test_admin_revokes_a_key(db, as_staff):
    admin = as_staff("admin")
    created = api_keys.create_key(db, Actor.system(via="cli"), get_settings().secret_key, name="ERP",
                                  scopes="orders:write")
    response = admin.post(f"/admin/api-keys/{created.key_id}/revoke", data={"_csrf_token": admin.csrf},
                          follow_redirects=False)
    assert response.status_code == 303
    [row] = api_keys.list_keys(db)
    assert row.revoked_at is not None
    [entry] = audit.search(db, action="api_key_revoke").entries
    assert json.loads(entry.detail) == {"integration": "ERP", "key_id": created.key_id}


@pytest.mark.parametrize("role", ["supervisor", "support", "warehouse", "compliance"])
def test_other_roles_may_not_see_or_make_keys(db, as_staff, role):
    client = as_staff(role)
    assert client.get("/admin/api-keys").status_code == 403
    assert create(client).status_code == 403
    assert api_keys.list_keys(db) == []
    assert "/admin/api-keys" not in client.get("/admin/").text


def test_creating_a_key_needs_the_csrf_token(db, as_staff):
    admin = as_staff("admin")
    response = admin.post("/admin/api-keys", data={"name": "X", "scopes": ["orders:write"]}, follow_redirects=False)
    assert response.status_code == 403
    assert api_keys.list_keys(db) == []
