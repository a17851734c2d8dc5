"""A seeded pair of sandboxes with the two sandbox instances, for flow tests."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from cartwire.demo import FLOWS, connect_sandboxes
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.clients import api_client
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.seed import seed
from cartwire.store import Store
from tests.support import run_cli


@dataclass
class World:
    home: Path
    store: Store
    catalogue: Catalogue
    ct: Sandbox
    cl: Sandbox

    @classmethod
    def seeded(cls, home: Path, catalogue: Catalogue, ct: Sandbox, cl: Sandbox) -> "World":
        """Both sandboxes loaded with `catalogue`, and the store in `home` (which must be
        CARTWIRE_HOME) connected to them as the demo does."""
        seed(catalogue, ct, cl)
        store = Store.open()
        connect_sandboxes(store, ct, cl)
        return cls(home, store, catalogue, ct, cl)

    def ct_client(self) -> httpx.Client:
        return api_client(self.ct)

    def cl_client(self) -> httpx.Client:
        return api_client(self.cl)

    def cl_all(self, resource: str, **params: str) -> list[dict[str, Any]]:
        """Every record of a Commerce Layer collection, by id keyset."""
        found: list[dict[str, Any]] = []
        last = ""
        with self.cl_client() as client:
            while True:
                query = {"sort": "id", "page[size]": "25", **params}
                if last:
                    query["filter[q][id_gt]"] = last
                data = client.get(resource, params=query).json()["data"]
                found += data
                if len(data) < 25:
                    return found
                last = data[-1]["id"]

    def writes(self, sandbox: Sandbox) -> int:
        """Requests that could change data, as the sandbox counted them."""
        paths = httpx.get(f"{sandbox.url}/_sandbox/counters").json()["paths"]
        return sum(n for route, n in paths.items() if not route.startswith(("GET", "HEAD")))

    def database_bytes(self) -> bytes:
        """The store's SQLite files as they are on disk (WAL included): what a copy would show."""
        names = ("cartwire.db", "cartwire.db-wal", "cartwire.db-shm")
        return b"".join(p.read_bytes() for p in (self.home / n for n in names) if p.exists())

    def reset_counters(self) -> None:
        for sandbox in (self.ct, self.cl):
            httpx.delete(f"{sandbox.url}/_sandbox/counters").raise_for_status()


def run_flow(world: World, name: str, *args: str) -> dict[str, Any]:
    """`cartwire flows run NAME --json` between the demo's instances for that flow."""
    source, destination = next((s, d) for f, s, d in FLOWS if f == name)
    done = run_cli(
        world.home,
        "flows",
        "run",
        name,
        "--source",
        source,
        "--destination",
        destination,
        "--json",
        *args,
    )
    assert done.returncode in (0, 1), done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result
