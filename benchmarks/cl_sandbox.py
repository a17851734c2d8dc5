"""A Commerce Layer sandbox for the benchmarks: started by `cartwire.sandbox.manager.up` in a
temporary CARTWIRE_HOME with the rate-limit profile asked for, its admin API, and a saved
instance pointing at it."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from cartwire.instances import Instances
from cartwire.sandbox import manager
from cartwire.sandbox.commercelayer.baseline import baseline_id
from cartwire.store import Store

CL_FIELDS = ("domain", "client_id", "client_secret", "scope", "auth_url", "api_url")
MERCHANDISE = baseline_id("shipping_categories", "merchandise")


@contextmanager
def commercelayer_sandbox(rate_limits: str) -> Iterator["Admin"]:
    """A fresh sandbox (rate limits `live`, `test` or `off`), stopped and deleted at the end."""
    home = Path(tempfile.mkdtemp(prefix="cartwire-bench-"))
    os.environ["CARTWIRE_HOME"] = str(home)
    try:
        state = manager.up(manager.Options(cl_rate_limits=rate_limits))
        yield Admin(state[manager.COMMERCELAYER], rate_limits)
    finally:
        manager.down()
        shutil.rmtree(home, ignore_errors=True)


class Admin:
    """The sandbox's `/_sandbox/` API."""

    def __init__(self, sandbox: manager.Sandbox, rate_limits: str) -> None:
        self.sandbox = sandbox
        self.rate_limits = rate_limits
        self.http = httpx.Client(base_url=f"{sandbox.url}/_sandbox", timeout=600)

    def save_instance(self, name: str) -> None:
        with Store.open() as store:
            given = {key: self.sandbox.credentials[key] for key in CL_FIELDS}
            Instances(store).add(manager.COMMERCELAYER, name, given, test=False)

    def load_skus(self, count: int, start: int = 0) -> None:
        for first in range(start, start + count, 10_000):
            records = [
                {
                    "attributes": {"code": f"SKU-{n:06d}", "name": f"Sku {n}"},
                    "relationships": {
                        "shipping_category": {"type": "shipping_categories", "id": MERCHANDISE}
                    },
                }
                for n in range(first, min(first + 10_000, start + count))
            ]
            self.http.post("/load", json={"type": "skus", "records": records}).raise_for_status()

    def reset(self) -> None:
        self.http.post("/reset").raise_for_status()

    def fresh_windows(self) -> None:
        """Empty the rate-limit windows (switching the profile resets them)."""
        self.http.patch("/config", json={"rate_limits": "off"}).raise_for_status()
        self.http.patch("/config", json={"rate_limits": self.rate_limits}).raise_for_status()

    def fault(self, **fault: Any) -> None:
        self.http.post("/faults", json=fault).raise_for_status()

    def clear(self) -> None:
        self.http.delete("/faults").raise_for_status()
        self.http.delete("/counters").raise_for_status()

    def paths(self) -> dict[str, int]:
        found: dict[str, int] = self.http.get("/counters").json()["paths"]
        return found
