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


@pytest.mark.parametrize("command", ["", "migrate", "seed-demo", "serve", "triage-scan", "import-stock",
                                     "simulate-carrier", "simulate-wechat"])
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


def test_seed_demo_is_refused_in_production(tmp_path):
    env = {"ORDERDESK_VAR_DIR": str(tmp_path), "ORDERDESK_ENV": "prod", "SECRET_KEY": "x" * 40,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}", "PUBLIC_BASE_URL": "https://shop.example",
           "SMS_PROVIDER": "http", "SMS_HTTP_URL": "https://sms.example/send", "SMS_HTTP_KEY": "k",
           "SMS_HTTP_SECRET": "s" * 32}
    result = run_cli("seed-demo", "--if-empty", env=env)
    assert result.returncode == 2
    assert "refused when ORDERDESK_ENV=prod" in result.stderr
    assert not (tmp_path / "demo-logins.txt").exists()


def test_bad_configuration_exits_with_the_reason(tmp_path):
    result = run_cli("migrate", env={"ORDERDESK_VAR_DIR": str(tmp_path), "PORT": "none"})
    assert result.returncode == 2
    assert "PORT must be a number" in result.stderr


def test_commands_registered_outside_core_are_listed():
    """The simulators live in devservers/ and reach the CLI through the `orderdesk.commands` entry points."""
    listed = run_cli("--help", env={}).stdout
    for command in ("migrate", "serve", "worker", "staff", "api-key", "import-orders", "simulate-carrier",
                    "simulate-wechat"):
        assert f"    {command}" in listed


class _EntryPoint:
    def __init__(self, name, add):
        self.name, self.value, self._add = name, f"tests:{name}", add

    def load(self):
        return self._add


def test_a_plugin_cannot_take_over_a_command(monkeypatch):
    import core.cli

    def add_serve(sub):
        sub.add_parser("serve")

    monkeypatch.setattr(core.cli, "entry_points", lambda group: [_EntryPoint("serve", add_serve)])
    with pytest.raises(RuntimeError, match="declared twice"):
        core.cli.build_parser()


def test_a_plugin_must_add_the_command_it_is_named_after(monkeypatch):
    import core.cli

    monkeypatch.setattr(core.cli, "entry_points", lambda group: [_EntryPoint("simulate-shopify", lambda sub: None)])
    with pytest.raises(RuntimeError, match="did not add"):
        core.cli.build_parser()
