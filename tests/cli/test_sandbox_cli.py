"""`cartwire sandbox up|status|down|seed`, run as a user runs them: the real console script."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from cartwire.sandbox import manager
from tests.support import run_cli


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = run_cli(home, *args)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


@pytest.fixture
def home(tmp_path: Path) -> Any:
    yield tmp_path
    run(tmp_path, "sandbox", "down", check=False)


def test_up_status_down(home: Path) -> None:
    first = json.loads(run(home, "sandbox", "up", "--json").stdout)
    assert set(first) == {"commercetools", "commercelayer"}
    assert set(first["commercetools"]) == {
        "auth_url",
        "api_url",
        "project_key",
        "region",
        "client_id",
        "client_secret",
        "scope",
    }
    assert set(first["commercelayer"]) == {
        "auth_url",
        "api_url",
        "domain",
        "client_id",
        "client_secret",
        "scope",
    }
    ct, cl = first["commercetools"], first["commercelayer"]
    token = httpx.post(
        f"{ct['auth_url']}/oauth/token",
        auth=(ct["client_id"], ct["client_secret"]),
        data={"grant_type": "client_credentials", "scope": ct["scope"]},
    )
    assert token.status_code == 200, token.text
    products = httpx.get(
        f"{ct['api_url']}/{ct['project_key']}/products",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert products.status_code == 200
    cl_token = httpx.post(
        f"{cl['auth_url']}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": cl["client_id"],
            "client_secret": cl["client_secret"],
            "scope": cl["scope"],
        },
    )
    assert cl_token.status_code == 200, cl_token.text

    state_file = home / "sandbox.json"
    assert state_file.stat().st_mode & 0o777 == 0o600
    pids = [entry["pid"] for entry in json.loads(state_file.read_text()).values()]

    # A second `up` reports the running servers instead of starting new ones.
    assert json.loads(run(home, "sandbox", "up", "--json").stdout) == first
    status = json.loads(run(home, "sandbox", "status", "--json").stdout)
    assert all(entry["running"] for entry in status.values())

    stopped = json.loads(run(home, "sandbox", "down", "--json").stdout)
    assert sorted(stopped["stopped"]) == ["commercelayer", "commercetools"]
    assert not any(_pid_alive(pid) for pid in pids)
    assert not state_file.exists()
    status = json.loads(run(home, "sandbox", "status", "--json").stdout)
    assert not any(entry["running"] for entry in status.values())


def test_down_stops_nothing_it_did_not_start(home: Path) -> None:
    """A recorded PID that now belongs to another process (different start time) is left alone."""
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        fake = manager.Sandbox(
            platform="commercetools",
            url="http://127.0.0.1:9",
            pid=bystander.pid,
            start_time=1,
            log=str(home / "x.log"),
            credentials={},
        )
        (home / "sandbox.json").write_text(json.dumps({"commercetools": fake.__dict__}))
        stopped = json.loads(run(home, "sandbox", "down", "--json").stdout)
        assert stopped == {"stopped": []}
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_seed_needs_running_sandboxes(home: Path) -> None:
    done = run(home, "sandbox", "seed", "--products", "1", check=False)
    assert done.returncode == 1
    assert "cartwire sandbox up" in done.stderr


def test_up_rejects_an_unknown_rate_limit_profile(home: Path) -> None:
    done = run(home, "sandbox", "up", "--cl-rate-limits", "fast", check=False)
    assert done.returncode == 1
    assert "test, live, off" in done.stderr
    assert not (home / "sandbox.json").exists()
