"""A commercetools sandbox for the benchmarks: a fresh one in a temporary CARTWIRE_HOME, or the
one already running in a given home, plus a saved instance pointing at it."""

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cartwire.instances import Instances
from cartwire.sandbox import manager
from cartwire.store import Store

CT_FIELDS = ("scope", "client_id", "client_secret", "project_key", "auth_url", "api_url")


@contextmanager
def commercetools_sandbox(home: Path | None) -> Iterator[manager.Sandbox]:
    """With `home`, the sandbox `cartwire sandbox up` started there; without, a new one in a
    temporary home, stopped (and the home deleted) on the way out."""
    temporary = None if home else Path(tempfile.mkdtemp(prefix="cartwire-bench-"))
    os.environ["CARTWIRE_HOME"] = str(home or temporary)
    try:
        if home:
            found = manager.load_state().get(manager.COMMERCETOOLS)
            if found is None or not found.running():
                sys.exit(f"no commercetools sandbox is running in {home}")
            yield found
        else:
            yield manager.up(manager.Options(cl_rate_limits="off"))[manager.COMMERCETOOLS]
    finally:
        if temporary is not None:
            manager.down()
            shutil.rmtree(temporary, ignore_errors=True)


def save_instance(sandbox: manager.Sandbox, name: str) -> None:
    """Save (or replace) instance `name` for the sandbox, without a test token request."""
    with Store.open() as store:
        instances = Instances(store)
        if name in store.instances.names():
            instances.remove(name)
        given = {key: sandbox.credentials[key] for key in CT_FIELDS}
        instances.add(manager.COMMERCETOOLS, name, given, test=False)
