"""What the trigger tests share: a cartwire home with the two sandbox instances and flow files
of our own, real `cartwire` processes, and a look into the store they wrote."""

import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from cartwire.store.engine import Sessions
from cartwire.store.models import ScheduleSlotRow
from cartwire.store.runs import Run
from tests.sandbox_instances import add_instance
from tests.support import CARTWIRE

# Reads commercetools channels (an empty project has none, so a run is quick and writes
# nothing), writes Commerce Layer stock locations.
CHANNELS_FLOW = """\
name: {name}
triggers:
{triggers}
source: {{connector: commercetools, endpoint: channels, incremental: true}}
steps:
  - map:
      fields:
        code: key
        name: key
destination: {{connector: commercelayer, endpoint: stock_locations}}
"""


def channels_flow(name: str, *triggers: str) -> str:
    """The channels flow under `name`, with these triggers (`schedule: "0 * * * *"`, `manual`)."""
    return CHANNELS_FLOW.format(name=name, triggers="\n".join(f"  - {t}" for t in triggers))


def write_flow(home: Path, name: str, text: str) -> Path:
    folder = home / "flows"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def env_for(home: Path) -> dict[str, str]:
    env = {**os.environ, "CARTWIRE_HOME": str(home)}
    env.pop("CARTWIRE_DATABASE_URL", None)
    return env


@contextmanager
def opened_store(home: Path) -> Iterator[Store]:
    """The home's store, opened from this (test) process."""
    previous = os.environ.get("CARTWIRE_HOME")
    os.environ["CARTWIRE_HOME"] = str(home)
    try:
        with Store.open() as store:
            yield store
    finally:
        if previous is None:
            os.environ.pop("CARTWIRE_HOME", None)
        else:
            os.environ["CARTWIRE_HOME"] = previous


def add_sandbox_instances(home: Path, ct: Sandbox, cl: Sandbox) -> None:
    with opened_store(home) as store:
        add_instance(store, ct, "ct")
        add_instance(store, cl, "cl")


def bind(home: Path, flow: str, source: str, destination: str, enabled: bool = True) -> None:
    with opened_store(home) as store:
        store.bindings.bind(flow, source, destination, enabled)


def runs_of(home: Path, flow: str) -> list[Run]:
    with opened_store(home) as store:
        return list(reversed(store.runs.recent(flow, limit=1000)))


def slots_of(home: Path, flow: str) -> list[tuple[Any, int | None]]:
    with opened_store(home) as store, Sessions(store.engine).read() as session:
        rows = session.scalars(
            select(ScheduleSlotRow)
            .where(ScheduleSlotRow.flow == flow)
            .order_by(ScheduleSlotRow.slot)
        )
        return [(row.slot, row.run_id) for row in rows]


class Process:
    """`cartwire ARGS` in the background (own process group), its stdout read line by line by
    a thread, so a test can wait for a line with a timeout. `env` is added to the home's
    environment; with `log`, stderr goes to that file (a chatty process never fills a pipe)."""

    def __init__(
        self, home: Path, *args: str, env: dict[str, str] | None = None, log: Path | None = None
    ) -> None:
        self.log = log
        with open(log, "w") if log else contextlib.nullcontext(subprocess.PIPE) as stderr:
            self.popen = subprocess.Popen(
                [CARTWIRE, *args],
                env={**env_for(home), **(env or {})},
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                start_new_session=True,
            )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self, timeout: float) -> str | None:
        """The next line (None at the end of output); AssertionError after `timeout`."""
        try:
            found = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output within {timeout} s; so far: {self.seen}") from None
        if found is not None:
            self.seen.append(found)
        return found

    def events(self, timeout: float, until: Any) -> list[dict[str, Any]]:
        """JSON lines until one satisfies `until` (that one included)."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            line = self.line(max(0.1, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(f"output ended before the expected event: {self.seen}")
            found.append(json.loads(line))
            if until(found[-1]):
                return found

    def send(self, sig: int) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)

    def stop(self, sig: int = signal.SIGKILL, timeout: float = 60) -> int:
        self.send(sig)
        return self.popen.wait(timeout)

    def stderr(self) -> str:
        if self.log is not None:
            return self.log.read_text()
        assert self.popen.stderr is not None
        return self.popen.stderr.read() if self.popen.poll() is not None else ""


def wait_for(
    condition: Any, timeout: float, what: str, describe: Callable[[], str] | None = None
) -> Any:
    """`condition()` once it is truthy; after `timeout` s a failure that says what was awaited
    and, from `describe`, the state it was stuck in."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    state = f"\n{describe()}" if describe is not None else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{state}")


def sandbox_fault(sandbox: Sandbox, **fault: Any) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()
