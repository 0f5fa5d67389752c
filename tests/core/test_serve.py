"""`orderdesk serve` as a single-machine install runs it: SQLite, several server workers,
the periodic jobs in one of them, and every request still answered."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.e2e.conftest import _free_port

ROOT = Path(__file__).resolve().parents[2]


def test_two_granian_workers_elect_one_to_run_the_jobs_and_sign_in_keeps_working(tmp_path):
    port = _free_port()
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    env = {**os.environ, "ORDERDESK_VAR_DIR": str(tmp_path), "DATABASE_URL": url, "SMS_PROVIDER": "console"}
    env.pop("ORDERDESK_JOBS", None)
    cli = [sys.executable, "-m", "core.cli"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([*cli, "serve", "--server", "granian", "--workers", "2", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)

        # Sign-in code requests for five phones, while the elected worker runs the first round of jobs.
        with httpx.Client(base_url=base, timeout=15, follow_redirects=True) as client:
            page = client.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
            for n in range(5):
                answer = client.post("/login", data={"phone": f"1371234{5000 + n}", "next": "/orders",
                                                     "_csrf_token": token})
                assert answer.status_code == 200, answer.text
                assert "/login/verify" in str(answer.url) and "验证码" in answer.text

        engine = create_engine(url)
        deadline = time.monotonic() + 60
        while True:
            with engine.connect() as conn:
                ran = set(conn.execute(text("SELECT name FROM job_run WHERE finished_at IS NOT NULL")).scalars())
            if {"deliver_outbox", "promise_breaches", "triage_scan"} <= ran:
                break
            assert time.monotonic() < deadline, f"jobs finished: {ran}\n{log_path.read_text()}"
            time.sleep(0.5)
        engine.dispose()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert log_path.read_text().count("periodic jobs run in this worker") == 1
