"""`orderdesk api-key create/list/revoke` as an operator runs them: a real process."""

from __future__ import annotations

import re

import pytest

from core.config import get_settings
from core.services.channels import api_keys
from tests.conftest import BACKENDS, fresh_database_url
from tests.core.test_cli import run_cli


@pytest.fixture(params=BACKENDS)
def migrated(request, tmp_path):
    url, cleanup = fresh_database_url(request.param, tmp_path)
    env = {"DATABASE_URL": url, "ORDERDESK_VAR_DIR": str(tmp_path)}
    assert run_cli("migrate", env=env).returncode == 0
    yield env
    cleanup()


def test_create_list_revoke(migrated):
    created = run_cli("api-key", "create", "WMS Hangzhou", "--scopes", "shipments:write,stock:write", env=migrated)
    assert created.returncode == 0, created.stderr
    key_id = re.search(r"key id:\s+(odk_\w+)", created.stdout).group(1)
    secret = re.search(r"secret:\s+(\S+)", created.stdout).group(1)
    assert secret == api_keys.signing_secret(get_settings().secret_key, key_id)
    listed = run_cli("api-key", "list", env=migrated)
    assert f"{key_id}  WMS Hangzhou  [shipments:write stock:write]" in listed.stdout
    assert secret not in listed.stdout and "active" in listed.stdout
    revoked = run_cli("api-key", "revoke", key_id, env=migrated)
    assert revoked.returncode == 0
    assert "revoked" in run_cli("api-key", "list", env=migrated).stdout
    assert run_cli("api-key", "revoke", "odk_nope", env=migrated).returncode == 2


def test_unknown_scope_is_refused(migrated):
    result = run_cli("api-key", "create", "ERP", "--scopes", "orders:read", env=migrated)
    assert result.returncode == 2
    assert "Unknown scope orders:read." in result.stderr
