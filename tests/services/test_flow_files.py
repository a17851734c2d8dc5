"""User flow files through the service layer, as the HTTP API saves them: validated first,
written whole or not at all, deleted only when they are the user's and no run of them is
going; and the next scheduled run of a flow."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cartwire.sandbox.manager import Sandbox
from cartwire.services import errors
from cartwire.services.context import Services
from tests.flows.triggers_support import channels_flow
from tests.recorded_runs import held_run
from tests.sandbox_instances import add_instance

PREBUILT = "ct-products-to-cl-skus"


@pytest.fixture
def bound(services: Services, ct: Sandbox, cl: Sandbox) -> Services:
    """With a commercetools instance `ct` and a Commerce Layer instance `cl` to bind flows to."""
    add_instance(services.store, ct, "ct")
    add_instance(services.store, cl, "cl")
    return services


def _folder(home: Path) -> list[str]:
    """Every file in the user flows folder (temporary files included)."""
    folder = home / "flows"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_saved_flow_is_written_as_given_and_replaced_only_when_asked(
    services: Services, tmp_path: Path
) -> None:
    text = channels_flow("my-channels", "manual")
    saved = services.flows.save("my-channels", text)
    assert (saved.origin, saved.text, saved.flow.name) == ("user", text, "my-channels")
    assert (tmp_path / "flows" / "my-channels.yaml").read_text(encoding="utf-8") == text
    assert services.flows.get_by_name("my-channels") == saved
    assert [f.origin for f in services.flows.all() if f.name == "my-channels"] == ["user"]

    changed = text.replace("name: key\n", "name: id\n")
    with pytest.raises(errors.FlowError, match="'my-channels' exists already; use update"):
        services.flows.save("my-channels", changed)
    assert services.flows.get_by_name("my-channels").text == text
    assert services.flows.save("my-channels", changed, replace=True).text == changed
    assert services.flows.get_by_name("my-channels").text == changed
    assert _folder(tmp_path) == ["my-channels.yaml"]  # no temporary file left behind


def test_a_file_with_problems_or_another_name_writes_nothing(
    services: Services, tmp_path: Path
) -> None:
    broken = channels_flow("my-channels", "manual").replace(
        "endpoint: channels", "endpoint: chanels"
    )
    with pytest.raises(errors.FlowInvalid) as invalid:
        services.flows.save("my-channels", broken)
    assert any("chanels" in problem.message for problem in invalid.value.problems)
    with pytest.raises(errors.FlowInvalid):
        services.flows.save("my-channels", "name: my-channels")  # one line: text, never a path
    with pytest.raises(errors.FlowError, match="name: is 'other' but it is saved as 'my-channels'"):
        services.flows.save("my-channels", channels_flow("other", "manual"))
    with pytest.raises(errors.FlowInvalid) as bad_name:
        services.flows.save("../escape", channels_flow("../escape", "manual"))
    assert [(p.path, p.message) for p in bad_name.value.problems] == [
        ("name", '"../escape": use lowercase letters, digits and -')
    ]
    assert _folder(tmp_path) == []
    assert not (tmp_path / "escape.yaml").exists()
    with pytest.raises(errors.FlowNotFound):
        services.flows.get_by_name("my-channels")


def test_validating_text_is_validating_the_same_file(services: Services, tmp_path: Path) -> None:
    valid = services.flows.get_by_name(PREBUILT).text
    broken = valid.replace("endpoint: products", "endpoint: produkts")
    for text in (valid, broken, "name: x"):
        file = tmp_path / "checked.yaml"
        file.write_text(text, encoding="utf-8")
        assert services.flows.validate_text(text) == services.validate_flow(file)
    assert services.flows.validate_text(valid).valid
    assert services.flows.validate_text(valid).lookups is not None
    problems = services.flows.validate_text(broken).problems
    assert [p.path for p in problems] == ["source.endpoint"]
    assert "produkts" in problems[0].message
    assert not services.flows.validate_text("name: x").valid


def test_a_user_flow_overrides_a_prebuilt_one_and_only_it_can_be_deleted(
    bound: Services, tmp_path: Path
) -> None:
    services = bound
    prebuilt = services.flows.get_by_name(PREBUILT)
    services.flows.enable(PREBUILT, "ct", "cl")
    ours = prebuilt.text.replace("version: 1", "version: 2")
    services.flows.save(PREBUILT, ours)  # a prebuilt name needs no `replace`
    assert (
        services.flows.get_by_name(PREBUILT).origin,
        services.flows.get_by_name(PREBUILT).text,
    ) == (
        "user",
        ours,
    )

    services.flows.delete(PREBUILT)
    assert services.flows.get_by_name(PREBUILT) == prebuilt
    assert _folder(tmp_path) == []
    # The prebuilt flow is in force again, bound as before.
    [summary] = [f for f in services.flows.all() if f.name == PREBUILT]
    assert summary.binding is not None
    assert (summary.binding.source, summary.binding.destination) == ("ct", "cl")
    with pytest.raises(errors.FlowError, match="prebuilt flow: it can be overridden, not deleted"):
        services.flows.delete(PREBUILT)
    with pytest.raises(errors.FlowNotFound, match="no flow named 'nothing-here'"):
        services.flows.delete("nothing-here")


def test_a_flow_with_a_run_going_is_not_deleted(bound: Services, tmp_path: Path) -> None:
    services = bound
    services.flows.save("my-channels", channels_flow("my-channels", "manual"))
    services.flows.enable("my-channels", "ct", "cl")
    going = held_run(services.store.runs, "my-channels", "ct", "cl")
    with pytest.raises(errors.FlowInUse, match=f"run {going.id}") as in_use:
        services.flows.delete("my-channels")
    assert in_use.value.run_ids == [going.id]
    assert f"cartwire runs stop {going.id}" in str(in_use.value)
    assert _folder(tmp_path) == ["my-channels.yaml"]

    services.store.runs.finish(going.id, "succeeded")
    services.flows.delete("my-channels")
    assert _folder(tmp_path) == []
    # No flow of that name is left, so neither is its binding (no trigger tries to start it).
    assert services.store.bindings.get("my-channels") is None


def test_the_next_run_is_the_next_slot_of_an_enabled_binding(bound: Services) -> None:
    services = bound
    services.flows.save("nightly", channels_flow("nightly", "manual", 'schedule: "0 3 * * *"'))
    services.flows.save("by-hand", channels_flow("by-hand", "manual"))
    assert services.flows.next_run("nightly") is None  # not bound
    services.flows.enable("nightly", "ct", "cl")
    services.flows.enable("by-hand", "ct", "cl")

    before = datetime.now(UTC)
    upcoming = services.flows.next_run("nightly")
    assert upcoming is not None
    assert (upcoming.hour, upcoming.minute, upcoming.utcoffset()) == (3, 0, timedelta(0))
    assert before < upcoming <= before + timedelta(days=1)
    assert services.flows.next_run("by-hand") is None  # no schedule trigger
    services.flows.disable("nightly")
    assert services.flows.next_run("nightly") is None
