"""The triggers and the CLI on a deployment with a broker: two `cartwire scheduler` processes on
one PostgreSQL store queue each slot once for the workers, a signed webhook's run is queued and
processed by a worker, `runs resume` and `runs retry` send a run to the workers instead of
processing it here, and `cartwire demo --queue` runs the demo's flows on them."""

import json
import shutil
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from cartwire.demo import FLOWS
from cartwire.sandbox.manager import Sandbox
from cartwire.sandbox.processes import free_port
from cartwire.store.runs import FINISHED, Run
from tests.flows.triggers_support import (
    Process,
    channels_flow,
    wait_for,
    write_flow,
)
from tests.sandbox_instances import add_instance
from tests.support import run_cli
from tests.workers.conftest import Deployment

DEADLINE = 300  # seconds a queued run may take to end, on a loaded machine
FLOW = "sched-channels"


def _daily_slots_well_behind_now() -> list[str]:
    """Two daily schedule triggers whose latest slot is 6 hours ago and the next 12 hours
    ahead: every scheduler sees the same latest slot however slowly the machine runs."""
    now = datetime.now(UTC)
    behind = (now - timedelta(hours=12), now - timedelta(hours=6))
    return [f'schedule: "{moment.minute} {moment.hour} * * *"' for moment in behind]


def _instances(deployment: Deployment, ct: Sandbox, cl: Sandbox, *flows: tuple[str, str]) -> None:
    """The two sandbox instances ("ct", "cl"), and each (name, text) flow bound ct → cl."""
    with deployment.store() as store:
        add_instance(store, ct, "ct")
        add_instance(store, cl, "cl")
        for name, text in flows:
            write_flow(deployment.home, name, text)
            store.bindings.bind(name, "ct", "cl")


def _ended(deployment: Deployment, run_id: int) -> Run:
    def ended() -> Run | None:
        with deployment.store() as store:
            run = store.runs.get(run_id)
        return run if run.status in FINISHED else None

    found: Run = wait_for(ended, DEADLINE, f"run {run_id} to end on the workers")
    return found


def _decided(event: dict[str, Any]) -> bool:
    return event["event"] in ("started", "taken", "busy", "error")


def test_two_schedulers_on_postgresql_queue_each_slot_once(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    _instances(deployment, ct, cl, (FLOW, channels_flow(FLOW, *_daily_slots_well_behind_now())))
    deployment.start_workers(1)
    schedulers = [
        Process(deployment.home, "scheduler", "--json", "--poll", "2", env=deployment.env)
        for _ in range(2)
    ]
    try:
        decided = [p.events(90, _decided)[-1] for p in schedulers]
    finally:
        for process in schedulers:
            process.stop(signal.SIGKILL)
    assert sorted(e["event"] for e in decided) == ["started", "taken"], decided
    [started] = [e for e in decided if e["event"] == "started"]
    [taken] = [e for e in decided if e["event"] == "taken"]
    assert started["slot"] == taken["slot"]
    assert started["status"] == "queued"  # the workers', not the scheduler's
    run = _ended(deployment, started["run_id"])
    assert (run.trigger, run.status) == ("schedule", "succeeded")

    # a scheduler started again finds the slot claimed: it queues nothing
    again = run_cli(deployment.home, "scheduler", "--once", "--json", env=deployment.env)
    assert again.returncode == 0, again.stderr
    events = [json.loads(line) for line in again.stdout.splitlines()]
    assert [(e["event"], e["slot"]) for e in events] == [("taken", started["slot"])]
    with deployment.store() as store:
        runs = store.runs.recent(FLOW, limit=100)
        slices = [line.message for line in store.run_logs.of(run.id)]
    assert [(r.id, r.trigger) for r in runs] == [(run.id, "schedule")]
    assert any(line.startswith("slice 0 on ") for line in slices), slices


GENERIC_HOOK = """\
name: hook-generic
triggers:
  - webhook: {kind: signed_url}
source: {connector: commercetools, endpoint: channels, incremental: false}
steps:
  - filter: {field: key, op: eq, value: "never"}
destination: {connector: commercelayer, endpoint: stock_locations}
"""


def test_a_webhook_run_is_queued_for_the_workers(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    _instances(deployment, ct, cl, ("hook-generic", GENERIC_HOOK))
    secret = run_cli(
        deployment.home, "webhooks", "secret", "hook-generic", "--generate", env=deployment.env
    )
    assert secret.returncode == 0, secret.stderr
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = Process(deployment.home, "webhooks", "serve", "--port", str(port), env=deployment.env)
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                assert server.popen.poll() is None, server.stderr()
                return False

        wait_for(healthy, 60, "the webhook server")
        url = run_cli(
            deployment.home,
            *("webhooks", "url", "hook-generic", "--base-url", base),
            env=deployment.env,
        )
        assert url.returncode == 0, url.stderr
        records = [{"key": "queued-hook-a"}, {"key": "queued-hook-b"}]
        answer = httpx.post(url.stdout.strip(), content=json.dumps(records).encode(), timeout=30)
        assert answer.status_code == 202, answer.text
        run_id = answer.json()["run_id"]
        with deployment.store() as store:
            assert store.runs.get(run_id).status in ("queued", "running", "succeeded")
        deployment.start_workers(1)  # only now: the server itself processed nothing
        run = _ended(deployment, run_id)
    finally:
        server.stop()
    assert (run.trigger, run.status, run.counts["read"]) == ("webhook", "succeeded", 2)
    with deployment.store() as store:
        assert any(line.message.startswith("slice 0 on ") for line in store.run_logs.of(run_id))


def test_runs_resume_and_retry_go_to_the_workers(
    deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    _instances(deployment, ct, cl, (FLOW, channels_flow(FLOW, "manual")))
    queued = run_cli(
        deployment.home,
        *("flows", "run", FLOW, "--queue", "--json"),
        env=deployment.env,
    )
    assert queued.returncode == 0, queued.stderr
    run_id = json.loads(queued.stdout)["run_id"]
    stopped = run_cli(deployment.home, "runs", "stop", str(run_id), env=deployment.env)
    assert stopped.returncode == 0, stopped.stderr
    with deployment.store() as store:
        assert store.runs.get(run_id).status == "stopped"  # a queued run stops at once

    resumed = run_cli(deployment.home, "runs", "resume", str(run_id), "--json", env=deployment.env)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "queued"  # not processed here
    deployment.start_workers(1)
    assert _ended(deployment, run_id).status == "succeeded"

    retried = run_cli(deployment.home, "runs", "retry", str(run_id), "--json", env=deployment.env)
    assert retried.returncode == 0, retried.stderr
    retry = json.loads(retried.stdout)
    assert retry["status"] == "queued"
    ended = _ended(deployment, retry["run_id"])
    assert (ended.trigger, ended.retry_of, ended.status) == ("retry", run_id, "succeeded")


def test_the_demo_runs_its_flows_on_the_workers(
    cartwire_home: Path, deployment: Deployment, ct: Sandbox, cl: Sandbox
) -> None:
    # The demo finds the sandboxes this test session started (and reset) instead of its own.
    shutil.copy(cartwire_home / "sandbox.json", deployment.home / "sandbox.json")
    deployment.start_workers(2)
    done = run_cli(
        deployment.home,
        *("demo", "--queue", "--products", "40", "--json"),
        env=deployment.env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert [r["flow"] for r in runs] == [name for name, _, _ in FLOWS]
    assert all(r["status"] == "succeeded" for r in runs), runs
    assert sum(r["created"] for r in runs) > 40
    with deployment.store() as store:
        for run in runs:  # each was processed by a worker, a slice at a time
            lines = [line.message for line in store.run_logs.of(run["run_id"])]
            assert any(line.startswith("slice 0 on ") for line in lines), lines
