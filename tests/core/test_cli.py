"""The `orderdesk` command as an operator runs it: a real process, real exit codes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import BACKENDS, fresh_database_url

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("command", ["", "migrate", "seed-demo", "serve", "triage-scan", "import-stock"])
def test_help_for_every_command(command):
    result = run_cli(*([command] if command else []), "--help", env={})
    assert result.returncode == 0
    assert "usage: orderdesk" in result.stdout


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    url, cleanup = fresh_database_url(request.param, tmp_path)
    yield url
    cleanup()


def test_migrate_then_seed_demo_then_seed_again(empty_url, tmp_path):
    env = {"DATABASE_URL": empty_url, "ORDERDESK_VAR_DIR": str(tmp_path)}
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    seeded = run_cli("seed-demo", "--if-empty", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "Demo phone 13800138000 owns" in seeded.stdout
    assert "exceptions tagged" in seeded.stdout
    # The seed already scanned: a periodic scan right after finds everything open, opens nothing.
    scanned = run_cli("triage-scan", env=env)
    assert scanned.returncode == 0, scanned.stderr
    assert " 0 tags opened" in scanned.stdout and "already open" in scanned.stdout
    again = run_cli("seed-demo", "--if-empty", env=env)
    assert again.returncode == 0
    assert "nothing added" in again.stdout
    refused = run_cli("seed-demo", env=env)
    assert refused.returncode == 1
    assert "already has orders" in refused.stderr
    engine = create_engine(empty_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 320
    engine.dispose()


def test_bad_configuration_exits_with_the_reason(tmp_path):
    result = run_cli("migrate", env={"ORDERDESK_VAR_DIR": str(tmp_path), "PORT": "none"})
    assert result.returncode == 2
    assert "PORT must be a number" in result.stderr
