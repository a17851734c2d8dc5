"""How many token requests cartwire really makes, counted at the sandboxes.

    .venv/bin/python benchmarks/bench_token_requests.py

Starts both sandboxes in a throwaway CARTWIRE_HOME, adds one instance per platform through the
CLI, then prints the token requests the servers saw for: 100 concurrent threads, 100 concurrent
asyncio tasks, 20 consecutive CLI processes, and a run of calls across several token expiries.
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

CARTWIRE = str(Path(sys.executable).parent / "cartwire")


def cli(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [CARTWIRE, *args], input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"cartwire {' '.join(args[:2])} failed: {done.stderr}")
    return done.stdout


def token_requests(url: str) -> int:
    count: int = httpx.get(f"{url}/_sandbox/counters").json()["token_requests"]
    return count


def reset_counters(url: str) -> None:
    httpx.delete(f"{url}/_sandbox/counters").raise_for_status()


def main() -> None:
    os.environ["CARTWIRE_HOME"] = tempfile.mkdtemp(prefix="cartwire-bench-")
    import cartwire
    from cartwire import logs
    from cartwire.instances.service import _sources
    from cartwire.sandbox import manager
    from cartwire.store import Store

    logs.configure()
    state = manager.up(manager.Options(cl_rate_limits="off"))
    try:
        ct, cl = state["commercetools"], state["commercelayer"]
        for name, sandbox, keys in (
            ("ct", ct, ["scope", "client_id", "project_key", "auth_url", "api_url"]),
            ("cl", cl, ["scope", "client_id", "domain", "auth_url", "api_url"]),
        ):
            sets = [a for k in keys for a in ("--set", f"{k}={sandbox.credentials[k]}")]
            cli(
                "instances",
                "add",
                sandbox.platform,
                "--name",
                name,
                *sets,
                "--stdin",
                "client_secret",
                stdin=sandbox.credentials["client_secret"] + "\n",
            )
        rows = []

        reset_counters(ct.url)
        with cartwire.connect("ct") as client, ThreadPoolExecutor(100) as pool:
            list(pool.map(lambda _: client.get("channels").raise_for_status(), range(100)))
        rows.append(("100 concurrent threads (commercetools)", token_requests(ct.url)))

        reset_counters(cl.url)
        _sources.clear()

        async def tasks() -> None:
            async with cartwire.aconnect("cl") as client:
                headers = {"Accept": "application/vnd.api+json"}
                await asyncio.gather(*(client.get("markets", headers=headers) for _ in range(100)))

        asyncio.run(tasks())
        rows.append(("100 concurrent asyncio tasks (Commerce Layer)", token_requests(cl.url)))

        for platform, sandbox, path in (("ct", ct, "channels"), ("cl", cl, "markets")):
            Store.open().tokens.delete(platform)  # start with no cached token
            reset_counters(sandbox.url)
            for _ in range(20):
                cli("api", platform, path)
            rows.append((f"20 consecutive CLI calls ({platform})", token_requests(sandbox.url)))

        httpx.patch(f"{ct.url}/_sandbox/config", json={"token_lifetime": 4}).raise_for_status()
        Store.open().tokens.delete("ct")  # forget the 48 h token so the next one is short-lived
        _sources.clear()
        reset_counters(ct.url)
        started = time.monotonic()
        with cartwire.connect("ct") as client:
            while time.monotonic() - started < 12:
                client.get("channels").raise_for_status()
                time.sleep(0.25)
        rows.append(("12 s of calls, token lifetime 4 s (margin 0.4 s)", token_requests(ct.url)))
    finally:
        manager.down()
    width = max(len(label) for label, _ in rows)
    for label, count in rows:
        print(f"{label:<{width}}  {count} token request(s)")


if __name__ == "__main__":
    main()
