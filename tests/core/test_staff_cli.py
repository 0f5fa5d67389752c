"""`orderdesk staff create` and `reset-password` as an operator runs them: a real process on each database,
then signing in with what it set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.db import Database
from core.services.identity import staff as staff_service
from tests.conftest import BACKENDS, fresh_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=BACKENDS)
def migrated(request, tmp_path):
    url, cleanup = fresh_database_url(request.param, tmp_path)
    env = {"DATABASE_URL": url, "ORDERDESK_VAR_DIR": str(tmp_path)}
    migrate = subprocess.run([sys.executable, "-m", "core.cli", "migrate"], cwd=ROOT, env={**os.environ, **env},
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    yield env
    cleanup()


def run_with_password(*args: str, password: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", *args, "--password-stdin"], cwd=ROOT,
                          env={**os.environ, **env}, input=password + "\n", capture_output=True, text=True,
                          timeout=120)


def test_create_then_reset_password_then_sign_in(migrated):
    created = run_with_password("staff", "create", "--email", "Agent@Shop.test", "--role", "support",
                                password="first passphrase 1", env=migrated)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "created Agent@Shop.test (support)"
    again = run_with_password("staff", "create", "--email", "agent@shop.test", "--role", "support",
                              password="first passphrase 1", env=migrated)
    assert again.returncode == 2 and "already an account" in again.stderr
    reset = run_with_password("staff", "reset-password", "--email", "agent@shop.test",
                              password="second passphrase 2", env=migrated)
    assert reset.returncode == 0, reset.stderr
    db = Database(migrated["DATABASE_URL"])
    try:
        with pytest.raises(staff_service.LoginFailed):
            staff_service.sign_in(db, email="agent@shop.test", password="first passphrase 1")
        assert staff_service.sign_in(db, email="agent@shop.test", password="second passphrase 2").staff.role == "support"
    finally:
        db.dispose()
