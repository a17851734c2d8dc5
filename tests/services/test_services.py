"""The service layer called directly, as the HTTP API will call it: real sandboxes, real SQLite
in a private home, plain models out."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

import cartwire
from cartwire.http.governed_transport import GovernedTransport
from cartwire.sandbox.manager import Sandbox
from cartwire.services import errors
from cartwire.services.context import Services
from cartwire.services.instances import Settings
from cartwire.services.webhooks import WebhookRefused
from tests.flows.world import World
from tests.sandbox_instances import fields


def test_instances_are_added_tested_changed_and_removed_with_secrets_masked(
    services: Services, ct: Sandbox
) -> None:
    given = fields(ct)
    added = services.instances.add("commercetools", "shop", given)
    assert added.fields["client_secret"] == "••••" + given["client_secret"][-4:]
    assert given["client_secret"] not in added.model_dump_json()
    assert [view.name for view in services.instances.all()] == ["shop"]
    tested = services.instances.test("shop")
    assert (tested.ok, tested.status) == (True, "operational")
    changed = services.instances.update("shop", {}, Settings("Europe/London", 5, "second"))
    assert (changed.timezone, changed.rate_limit and changed.rate_limit.model_dump()) == (
        "Europe/London",
        {"amount": 5, "unit": "second"},
    )
    services.instances.remove("shop")
    with pytest.raises(errors.InstanceNotFound):
        services.instances.get("shop")


def test_wrong_credentials_are_not_saved(services: Services, ct: Sandbox) -> None:
    with pytest.raises(errors.CredentialsRejected) as rejected:
        services.instances.add("commercetools", "shop", {**fields(ct), "client_secret": "x" * 32})
    assert rejected.value.result.status == "failed authentication"
    assert services.instances.all() == []


def test_connect_keeps_the_instances_pool_and_rate_limit(services: Services, ct: Sandbox) -> None:
    services.pools.set("shared", 2)
    services.instances.add(
        "commercetools",
        "shop",
        fields(ct),
        Settings(rate_limit_amount=50, rate_limit_unit="second", pool="shared"),
        test=False,
    )
    with services.connect("shop") as client:
        transport = client._transport
        assert isinstance(transport, GovernedTransport)
        assert transport.pool is not None
        assert transport.pool.size == 2
        assert len(transport.throttles) == 1  # the instance's rate limit (no platform throttle)
        answer = client.get("channels")
    assert answer.status_code == 200
    with services.open("shop") as platform:  # the same pool and throttles for records
        assert platform.api.pool is transport.pool
        assert platform.api.throttles == transport.throttles


def test_the_python_api_opens_through_the_services(services: Services, ct: Sandbox) -> None:
    services.instances.add("commercetools", "shop", fields(ct), test=False)
    with cartwire.open("shop", services.store) as platform:
        assert list(platform.read("channels")) == []


def test_pools_list_the_default_sized_ones_too(services: Services, ct: Sandbox) -> None:
    services.instances.add(
        "commercetools", "shop", fields(ct), Settings(pool="unsized"), test=False
    )
    services.pools.set("sized", 3)
    shown = [pool.model_dump() for pool in services.pools.all()]
    assert shown == [
        {"name": "sized", "size": 3, "default": False, "instances": []},
        {"name": "unsized", "size": 4, "default": True, "instances": ["shop"]},
    ]
    with pytest.raises(errors.PoolRejected, match="invalid pool name"):
        services.pools.set("Not A Name", 1)
    assert services.pools.remove("sized") == []
    with pytest.raises(errors.PoolRejected, match="no pool named 'nothing'"):
        services.pools.remove("nothing")


def test_a_flow_runs_and_its_run_reads_back_as_plain_data(world: World) -> None:
    services = Services(world.store)
    flow = "ct-products-to-cl-skus"
    assert [f.binding and f.binding.source for f in services.flows.all() if f.name == flow] == [
        "sandbox-ct"
    ]
    prepared = services.flows.prepare_run(flow)
    notes = prepared.lookup_notes()
    assert notes
    assert all(note.startswith("lookup table") for note in notes)
    run = prepared.run()
    assert run.status == "succeeded", run.error
    assert run.counts["read"] == 8
    assert run.counts["created"] >= 8
    again = services.runs.get(run.id)
    assert again == run
    assert json.loads(again.model_dump_json())["counts"] == run.counts
    assert [r.id for r in services.runs.all(flow)] == [run.id]
    assert any("lookup table" in line.message for line in services.runs.logs(run.id))
    assert services.runs.failures(run.id) == []
    assert services.runs.changes(run.id) is None
    dry = services.flows.prepare_run(flow).run(dry_run=True, full=True)
    changes = services.runs.changes(dry.id)
    assert dry.dry_run
    assert changes is not None
    assert changes.omitted == 0
    assert dry.counts["created"] == 0  # the first run wrote them all
    with pytest.raises(errors.FlowError, match="dry run"):
        services.runs.retry(dry.id)


def test_validation_reports_problems_without_a_store(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\n", encoding="utf-8")

    def no_store() -> None:
        raise AssertionError("the store was opened")

    from cartwire.services.validation import validate_file

    checked = validate_file(broken, None, no_store)  # type: ignore[arg-type]
    assert not checked.valid
    assert checked.lookups is None
    assert checked.problems


def test_lookups_and_webhook_secrets(world: World) -> None:
    services = Services(world.store)
    assert services.lookups.replace("colours", {"red": "rot", "blue": "blau"}) == 2
    assert services.lookups.get("colours") == {"red": "rot", "blue": "blau"}
    assert services.lookups.sizes()["colours"] == 2
    with pytest.raises(WebhookRefused, match=re.escape("no `webhook: {kind: signed_url}` trigger")):
        services.webhooks.signed_url("ct-products-to-cl-skus", "http://x", timedelta(hours=1))
    with pytest.raises(errors.FlowNotFound):
        services.webhooks.signed_url("no-such-flow", "http://x", timedelta(hours=1))
