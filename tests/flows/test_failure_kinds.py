"""Typed failure reasons: a run and each failed record say what kind of failure it was, so a
person knows whether to fix the setup, fix the data, or just retry; against the sandboxes for
the kinds a sandbox can be made to produce, by exception type for the rest."""

import json
from typing import Any

import httpx
import pytest

from cartwire.auth.errors import AuthUnreachable, InvalidClient
from cartwire.demo import FLOWS
from cartwire.flows.failure_reasons import most_common, of_exception, of_write, retryable
from cartwire.flows.problems import FlowError
from cartwire.http.errors import (
    ApiError,
    BadRequest,
    Conflict,
    NotFound,
    RateLimited,
    ServerError,
    TimedOut,
    Unauthorized,
)
from cartwire.http.paging import IncompleteRead
from tests.flows.world import World, run_flow
from tests.support import run_cli

CUSTOMERS = "ct-customers-to-cl-customers"


def _fault(world: World, sandbox: str, **fault: object) -> None:
    url = (world.ct if sandbox == "ct" else world.cl).url
    httpx.post(f"{url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()


def _shown(world: World, run_id: int) -> dict[str, Any]:
    done = run_cli(world.home, "runs", "show", str(run_id), "--json")
    assert done.returncode == 0, done.stderr
    shown: dict[str, Any] = json.loads(done.stdout)
    return shown


def test_a_record_the_platform_refuses_is_data_and_not_retryable(world: World) -> None:
    _fault(world, "cl", method="POST", path="/api/customers$", status=422, count=1)
    run = run_flow(world, CUSTOMERS)
    assert run["status"] == "partially succeeded"
    assert (run["failure_kind"], run["retryable"]) == ("data", False)
    [failure] = _shown(world, run["run_id"])["failures"]
    assert (failure["kind"], failure["retryable"]) == ("data", False)
    text = run_cli(world.home, "runs", "show", str(run["run_id"])).stdout
    assert "failure: data: the platform refused records on their merits" in text


def test_records_refused_for_want_of_access_are_the_setups_to_fix(world: World) -> None:
    _fault(world, "cl", method="POST", path="/api/customers$", status=403, count=1000)
    run = run_flow(world, CUSTOMERS)
    assert run["failed"] > 0
    assert run["created"] == 0  # the customers the seed left in Commerce Layer were updated
    assert (run["failure_kind"], run["retryable"]) == ("configuration", False)


def test_a_run_whose_token_is_refused_fails_as_configuration(world: World) -> None:
    _fault(world, "ct", method="POST", path="/oauth/token$", status=401, count=1000)
    source, destination = next((s, d) for f, s, d in FLOWS if f == CUSTOMERS)
    done = run_cli(
        world.home, "flows", "run", CUSTOMERS, "--source", source, "--destination", destination
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "the token endpoint" in done.stderr
    [run] = json.loads(run_cli(world.home, "runs", "list", "--json").stdout)
    shown = _shown(world, run["run_id"])
    assert shown["status"] == "failed"
    assert (shown["failure_kind"], shown["retryable"]) == ("configuration", False)


def test_a_successful_run_has_no_failure_kind(world: World) -> None:
    run = run_flow(world, CUSTOMERS)
    assert run["status"] == "succeeded"
    assert (run["failure_kind"], run["retryable"]) == (None, None)


def _api(kind: type[ApiError], status: int | None) -> ApiError:
    return kind("refused", status=status)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (_api(ServerError, 503), "transient"),
        (_api(RateLimited, 429), "transient"),
        (_api(TimedOut, None), "transient"),
        (AuthUnreachable("no answer"), "transient"),
        (IncompleteRead("a page went missing"), "transient"),
        (httpx.ConnectError("refused"), "transient"),
        (_api(Conflict, 409), "conflict"),
        (InvalidClient("bad secret"), "configuration"),
        (_api(Unauthorized, 403), "configuration"),
        (_api(NotFound, 404), "configuration"),
        (FlowError("lookup table missing"), "configuration"),
        (_api(BadRequest, 422), "data"),
        (ZeroDivisionError(), "internal"),
    ],
)
def test_the_exception_that_ends_a_run_gives_its_kind(exc: BaseException, kind: str) -> None:
    assert of_exception(exc) == kind
    assert retryable(kind) is (kind in ("transient", "conflict"))


def test_a_records_kind_follows_its_platforms_error_class() -> None:
    assert [of_write(c) for c in ("transient", "conflict", "configuration", "permanent")] == [
        "transient",
        "conflict",
        "configuration",
        "data",
    ]
    assert of_write(None) == "data"  # failed in the mapping, before anything was sent


def test_a_runs_kind_is_its_records_most_common_ties_to_what_needs_a_person() -> None:
    assert most_common({"transient": 3, "data": 1}) == "transient"
    assert most_common({"transient": 2, "data": 2}) == "data"
    assert most_common({"conflict": 1, "configuration": 1}) == "configuration"
    assert most_common({}) is None
