"""The deployment files in deploy/ run as written: each Procfile command is started exactly as
a Procfile runner starts it (a shell expanding the shared environment) on PostgreSQL and Redis,
and comes up: the web process answers /health, the worker answers `cartwire workers status`,
the scheduler keeps running until it is stopped. The systemd units and the compose file run the
same commands (compared here), so a unit or a service cannot drift from what was tested."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from cartwire.sandbox.processes import free_port
from tests.flows.triggers_support import wait_for
from tests.support import run_cli
from tests.workers.conftest import Deployment

DEPLOY = Path(__file__).parents[2] / "deploy"
DEADLINE = 120  # seconds for a process to come up on a loaded machine
_VARIABLE = re.compile(r"\$\{(\w+)\}")


def procfile() -> dict[str, str]:
    lines = (DEPLOY / "Procfile").read_text().splitlines()
    pairs = [line.split(":", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {name.strip(): command.strip() for name, command in pairs}


def _expanded(command: str, env: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda found: env[found[1]], command)


def _env_file() -> dict[str, str]:
    lines = (DEPLOY / "cartwire.env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return dict(pairs)


@dataclass
class Started:
    processes: dict[str, subprocess.Popen[str]]
    port: int


@pytest.fixture
def started(deployment: Deployment) -> Iterator[Started]:
    """Every Procfile process, under `sh -c` as honcho runs them, `cartwire` on the PATH."""
    port = free_port()
    env = {
        **os.environ,
        **deployment.env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CARTWIRE_HOST": "127.0.0.1",
        "PORT": str(port),
        "CARTWIRE_WORKER_CONCURRENCY": "1",
    }
    processes: dict[str, subprocess.Popen[str]] = {}
    try:
        for name, command in procfile().items():
            log = open(deployment.home / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
            processes[name] = subprocess.Popen(
                ["sh", "-c", f"exec {command}"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            log.close()
        yield Started(processes, port)
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_every_procfile_process_comes_up_and_stops_cleanly(
    deployment: Deployment, started: Started
) -> None:
    processes = started.processes
    assert set(processes) == {"web", "worker", "scheduler"}
    url = f"http://127.0.0.1:{started.port}/health"

    def healthy() -> bool:
        assert processes["web"].poll() is None, (deployment.home / "web.log").read_text()
        try:
            return httpx.get(url, timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def a_worker_answers() -> bool:
        assert processes["worker"].poll() is None, (deployment.home / "worker.log").read_text()
        done = run_cli(deployment.home, "workers", "status", "--json", env=deployment.env)
        assert done.returncode == 0, done.stderr
        return bool(json.loads(done.stdout)["workers"])

    wait_for(healthy, DEADLINE, "the web process's /health")
    wait_for(a_worker_answers, DEADLINE, "the worker to answer `cartwire workers status`")
    status = json.loads(
        run_cli(deployment.home, "workers", "status", "--json", env=deployment.env).stdout
    )
    assert status["queue"] == deployment.env["CARTWIRE_QUEUE"]
    assert status["waiting"] == 0
    assert status["runs"] == {"queued": 0, "running": 0}
    assert ":***@" in status["broker"] or "@" not in status["broker"]
    assert processes["scheduler"].poll() is None, (deployment.home / "scheduler.log").read_text()

    # A clean stop: exit 0, or the SIGTERM re-raised once shut down (uvicorn does; systemd
    # counts it as success), never a crash's status.
    for name, process in processes.items():
        os.killpg(process.pid, signal.SIGTERM)
        ended = process.wait(timeout=90)
        assert ended in (0, -signal.SIGTERM), (name, (deployment.home / f"{name}.log").read_text())


def test_workers_status_without_a_broker_says_what_to_set(tmp_path: Path) -> None:
    env = {"CARTWIRE_BROKER_URL": ""}
    done = run_cli(tmp_path, "workers", "status", env=env)
    assert done.returncode == 2
    assert "CARTWIRE_BROKER_URL" in done.stderr


@pytest.mark.parametrize("name", ["web", "worker", "scheduler"])
def test_the_systemd_unit_runs_the_procfile_command(name: str) -> None:
    unit = (DEPLOY / "systemd" / f"cartwire-{name}.service").read_text()
    [start] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    program, *args = shlex.split(start.removeprefix("ExecStart="))
    assert Path(program).name == "cartwire"
    assert ["cartwire", *args] == shlex.split(procfile()[name])
    assert "EnvironmentFile=/etc/cartwire/cartwire.env" in unit


@pytest.mark.parametrize("name", ["web", "worker", "scheduler"])
def test_the_compose_service_runs_the_procfile_command(name: str) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    service = compose["services"][name]
    env = {**_env_file(), **service.get("environment", {})}
    assert shlex.split(service["command"]) == shlex.split(_expanded(procfile()[name], env))
    assert service["env_file"] == "cartwire.env"
