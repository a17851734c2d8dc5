"""Saving instances that point at the sandboxes, through the Python API (no subprocess).

Tests of the engine and the CLI need saved instances but not the `instances add` command
itself (tests/instances covers that); this is the quick way to get them.
"""

from cartwire.instances import Instances, Settings
from cartwire.sandbox.manager import COMMERCETOOLS, Sandbox
from cartwire.store import InstanceRecord, Store

CT_FIELDS = ("scope", "client_id", "client_secret", "project_key", "auth_url", "api_url")
CL_FIELDS = ("domain", "client_id", "client_secret", "scope", "auth_url", "api_url")


def add_instance(
    store: Store, sandbox: Sandbox, name: str, settings: Settings | None = None
) -> InstanceRecord:
    """Save an instance of the sandbox's platform under `name` (credentials not re-tested)."""
    fields = CT_FIELDS if sandbox.platform == COMMERCETOOLS else CL_FIELDS
    given = {key: sandbox.credentials[key] for key in fields}
    return Instances(store).add(sandbox.platform, name, given, settings, test=False)
