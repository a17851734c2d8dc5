"""Shared test data: records whose secrets are unique, greppable strings."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cartwire.store import InstanceRecord

REPO = Path(__file__).resolve().parents[2]


def secret_for(name: str) -> str:
    return f"SECRET-{name}-f1d2a9c0e7"


def token_for(name: str) -> str:
    return f"ACCESS-{name}-77b3c1e904"


def make_record(
    name: str,
    *,
    connector: str = "commercetools",
    settings: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
    rate_limit_amount: int | None = None,
    rate_limit_unit: str | None = None,
    pool: str | None = None,
    timezone: str = "UTC",
) -> InstanceRecord:
    return InstanceRecord(
        name=name,
        connector=connector,
        auth_method="oauth2_client_credentials",
        settings=settings
        if settings is not None
        else {"client_id": f"client-{name}", "project_key": f"proj-{name}"},
        secrets=secrets if secrets is not None else {"client_secret": secret_for(name)},
        timezone=timezone,
        rate_limit_amount=rate_limit_amount,
        rate_limit_unit=rate_limit_unit,
        pool=pool,
    )


def start_worker(*args: str) -> subprocess.Popen[str]:
    """A worker process (tests/store/worker.py) in this test's environment (CARTWIRE_HOME etc.)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.worker", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def run_worker(*args: str, timeout: float = 120) -> list[object]:
    """Run a worker to completion; returns the JSON values it printed, one per line."""
    process = start_worker(*args)
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"worker {args} failed:\n{err}"
    return [json.loads(line) for line in out.splitlines() if line.strip()]
