"""Starting a flow run in a thread of its own, and knowing at once whether it started: the run
starts of the scheduler, the webhook receiver (`cartwire.flows.background` says why) and the
HTTP API's runs, resumes and retries (`run_starter`).

`FlowRunner.run()` creates the run record and then works for as long as the flow takes, so the
record is announced from inside it (`on_start`) and the caller waits only for that.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from cartwire.flows.background import Launched, Records
from cartwire.flows.catalog import FlowFile
from cartwire.flows.failure_reasons import describe
from cartwire.flows.runner import FlowRunner
from cartwire.services.clients import opener
from cartwire.store import Store
from cartwire.store.bindings import Binding
from cartwire.store.runs import Run

log = logging.getLogger(__name__)


class ThreadLauncher:
    """Runs each flow in a daemon thread of this process, sharing one `Store`.

    Daemon threads, so that a process told to stop is not held hostage by a run: the run is
    first asked to stop (see `Scheduler.shutdown`), and one that outlives the grace period is
    left `running` under a dead owner, which the store turns into `interrupted` (resumable).
    """

    def __init__(self, store: Store, start_timeout: float | None = 60.0) -> None:
        """`start_timeout`: how long a new run may take to be recorded (None: however long)."""
        self.store = store
        self.start_timeout = start_timeout
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def __call__(
        self, flow_file: FlowFile, binding: Binding, *, trigger: str, records: Records | None = None
    ) -> Launched:
        return self.start(
            flow_file, binding.source, binding.destination, trigger=trigger, records=records
        )

    def start(
        self,
        flow_file: FlowFile,
        source: str,
        destination: str,
        *,
        trigger: str,
        records: Records | None = None,
        full: bool = False,
        dry_run: bool = False,
        limit: int | None = None,
    ) -> Launched:
        """A new run of the flow between these instances (`FlowRunner.run` says what each
        argument does); return once it is recorded, or raise why it could not start."""
        runner = FlowRunner(
            self.store, flow_file.flow, flow_file.text, source, destination, open=opener(self.store)
        )
        return self._launch(
            flow_file.flow.name,
            lambda announce: runner.run(
                trigger=trigger,
                records=records,
                on_start=announce,
                full=full,
                dry_run=dry_run,
                limit=limit,
            ),
            self.start_timeout,
        )

    def resume(self, run: Run) -> Launched:
        """Continue an unfinished run (with the flow file it ran) in a thread of its own;
        return once the run is claimed, `running` again. No sender waits for a resume, so
        however long that takes, it is waited for: whoever then reads the run sees it resumed,
        not still `interrupted`."""
        runner = FlowRunner.from_run(self.store, run, opener(self.store))
        return self._launch(
            run.flow, lambda announce: runner.resume(run.id, on_start=announce), timeout=None
        )

    def retry(self, run: Run) -> Launched:
        """A new run of only the records `run` failed on, in a thread of its own; return once
        it is recorded."""
        runner = FlowRunner.from_run(self.store, run, opener(self.store))
        return self._launch(
            run.flow,
            lambda announce: runner.retry(run.id, on_start=announce),
            self.start_timeout,
        )

    def _launch(
        self,
        flow: str,
        work: Callable[[Callable[[Run], None]], Run],
        timeout: float | None,
    ) -> Launched:
        """Run `work(announce)` in a daemon thread; return once it announced its run (within
        `timeout` seconds; None: however long)."""
        announced: Future[Run] = Future()
        done: Future[Run] = Future()

        def body() -> None:
            try:
                finished = work(announced.set_result)
            except BaseException as exc:  # handed to whoever waits for the run
                if not announced.done():
                    announced.set_exception(exc)
                else:
                    log.warning("run of flow %s ended with %s", flow, describe(exc))
                done.set_exception(exc)
            else:
                done.set_result(finished)

        thread = threading.Thread(target=body, name=f"flow:{flow}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        run = announced.result(timeout=timeout)
        return Launched(run.id, done, thread)

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for every run this launcher started; True if none is
        left running."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)
