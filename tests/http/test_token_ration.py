"""Token requests wait for room in the platform's ration (Commerce Layer: 30 a minute per IP)
instead of being refused, in this process and, through Redis, across every worker."""

import uuid

import httpx
import pytest
import redis

from cartwire.http.shared_windows import Window, windows_for
from cartwire.http.token_ration import token_ration
from cartwire.http.waiting import Wait, waits_reported_to
from cartwire.instances import Instances
from cartwire.sandbox.manager import Sandbox
from cartwire.store import Store
from tests.http.conftest import REDIS
from tests.sandbox_instances import add_instance


@pytest.mark.parametrize("storage", ["memory://", REDIS])
def test_a_token_request_past_the_ration_waits_for_room(
    storage: str, redis_server: redis.Redis
) -> None:
    ration = token_ration(
        f"https://{uuid.uuid4().hex}.example/oauth/token", 1, 2.0, "Commerce Layer", storage
    )
    waits: list[Wait] = []
    with waits_reported_to(waits.append):
        ration()
        ration()  # the window (2 s and the margin, 3 s) still holds the first
    assert waits
    assert str(waits[0]).startswith("waiting for Commerce Layer token request limit, 1 per 2 s")


def test_every_commerce_layer_token_request_is_booked_against_its_ration(
    cl: Sandbox, store: Store
) -> None:
    """The connector file's `rate_limit` (30 a minute) reaches the instance's token source:
    fresh tokens and credential tests alike take a place in the auth host's window."""
    instances = Instances(store)
    record = add_instance(store, cl, "cl")
    netloc = httpx.URL(instances.endpoint(record).url).netloc.decode()
    window = Window(f"token/{netloc}", 30, 61)
    windows = windows_for(None)
    before = windows.book(window)
    instances.token_source(record).fetch()
    instances.test("cl")
    assert windows.book(window) == before + 2
