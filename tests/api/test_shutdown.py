"""On shutdown the app gives the runs it started `grace` seconds in all: the runs started
through the API and those of webhooks wait out one deadline, not `grace` each."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi import FastAPI

from cartwire.api.app import create_app
from cartwire.services.run_starter import RunStarter
from cartwire.services.webhooks import WebhookIntake
from cartwire.store import Store

GRACE = 0.2


def _start_and_stop(app: FastAPI) -> None:
    """The app's lifespan as uvicorn runs it, in a thread of its own (Playwright's sync API may
    hold this thread's event loop)."""

    async def lifetime() -> None:
        async with app.router.lifespan_context(app):
            pass

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, lifetime()).result()


def test_both_kinds_of_run_share_one_grace_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[tuple[str, float]] = []

    def runs_use_all_their_grace(_starter: RunStarter, grace: float) -> bool:
        given.append(("api runs", grace))
        threading.Event().wait(grace)  # a run still going when its time is up
        return False

    def webhook_runs(_intake: WebhookIntake, grace: float) -> bool:
        given.append(("webhook runs", grace))
        return True

    monkeypatch.setattr(RunStarter, "join", runs_use_all_their_grace)
    monkeypatch.setattr(WebhookIntake, "stop", webhook_runs)
    with Store.open(f"sqlite:///{tmp_path / 'cartwire.db'}") as store:
        _start_and_stop(create_app(store, grace=GRACE))
    # The API's runs took the whole period, so none is left for the webhooks' runs.
    assert given == [("api runs", GRACE), ("webhook runs", 0.0)]
