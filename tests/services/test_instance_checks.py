"""Each instance's last credential test is kept, so the instances page and `GET /instances`
show which work without a token request per instance each time they are shown."""

import httpx

from cartwire.sandbox.manager import Sandbox
from cartwire.services.context import Services
from tests.sandbox_instances import fields


def test_an_instance_added_after_its_test_starts_out_operational(
    services: Services, ct: Sandbox
) -> None:
    added = services.instances.add("commercetools", "shop", fields(ct))
    assert added.status == "operational"
    assert added.tested_at is not None
    assert added.tested_at.tzinfo is not None
    [listed] = services.instances.all()
    assert (listed.status, listed.tested_at) == ("operational", added.tested_at)


def test_an_untested_instance_says_so_until_it_is_tested(services: Services, ct: Sandbox) -> None:
    added = services.instances.add("commercetools", "shop", fields(ct), test=False)
    assert (added.status, added.tested_at) == (None, None)
    services.instances.test("shop")
    assert services.instances.get("shop").status == "operational"


def test_a_failing_test_is_kept_as_the_last_status(services: Services, ct: Sandbox) -> None:
    first = services.instances.add("commercetools", "shop", fields(ct))
    services.instances.update("shop", {"client_secret": "rotated-elsewhere"}, test=False)
    assert services.instances.test("shop").status == "failed authentication"
    now = services.instances.get("shop")
    assert now.status == "failed authentication"
    assert first.tested_at is not None
    assert now.tested_at is not None
    assert now.tested_at >= first.tested_at
    unreachable = {"method": "POST", "path": "/oauth/token$", "drop": True, "count": 1}
    httpx.post(f"{ct.url}/_sandbox/faults", json=unreachable, timeout=10).raise_for_status()
    services.instances.update("shop", {"client_secret": fields(ct)["client_secret"]}, test=False)
    assert services.instances.test("shop").status == "unreachable"
    assert services.instances.test("shop").status == "operational"  # the fault was used up
    assert services.instances.get("shop").status == "operational"


def test_a_removed_instance_takes_its_last_test_with_it(services: Services, ct: Sandbox) -> None:
    services.instances.add("commercetools", "shop", fields(ct))
    services.instances.remove("shop")
    services.instances.add("commercetools", "shop", fields(ct), test=False)
    assert services.instances.get("shop").status is None
