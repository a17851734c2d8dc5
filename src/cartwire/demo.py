"""The main job on the embedded default: both sandboxes, a sample business, two instances, and
the prebuilt flows between them.

Run twice, the second run is incremental and writes nothing: the sandboxes are only seeded when
commercetools is empty, instances and bindings are reused, and every flow reads from its cursor,
passing over the records its last run already had (`cartwire.flows.cursor`). What a re-run
may still read, once, is the demo's own echo: the Commerce Layer customers
`ct-customers-to-cl-customers` updated after `cl-customers-to-ct-customers` had read them,
found unchanged.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from cartwire.sandbox import manager
from cartwire.sandbox.catalogue import Catalogue
from cartwire.sandbox.seed import existing_records, seed
from cartwire.services.context import Services
from cartwire.services.progress import Progress
from cartwire.services.runs import RunView

if TYPE_CHECKING:
    from cartwire.services.context import Store

CT_INSTANCE = "sandbox-ct"
CL_INSTANCE = "sandbox-cl"

# Prebuilt flows in the order they depend on each other: stock needs skus; customers come from
# Commerce Layer first, so the way back carries commercetools' ids at once and a second run
# finds nothing to change.
FLOWS: tuple[tuple[str, str, str], ...] = (
    ("ct-products-to-cl-skus", CT_INSTANCE, CL_INSTANCE),
    ("ct-inventory-to-cl-stock", CT_INSTANCE, CL_INSTANCE),
    ("cl-customers-to-ct-customers", CL_INSTANCE, CT_INSTANCE),
    ("ct-customers-to-cl-customers", CT_INSTANCE, CL_INSTANCE),
    ("cl-orders-to-ct-orders", CL_INSTANCE, CT_INSTANCE),
)

Say = Callable[[str], None]


def prepare(store: "Store", products: int, say: Say) -> None:
    """Sandboxes up, seeded once, instances added, bindings saved."""
    state = manager.up()
    ct, cl = state[manager.COMMERCETOOLS], state[manager.COMMERCELAYER]
    say(f"commercetools sandbox at {ct.url}, Commerce Layer sandbox at {cl.url}")
    if "commercetools products" not in existing_records(ct, cl):
        catalogue = Catalogue(1, products, max(1, products // 4), max(1, products // 10))
        report = seed(catalogue, ct, cl)
        for platform, seconds in report.seconds.items():
            say(f"seeded {platform} in {seconds:.1f} s")
    else:
        say("sandboxes already seeded; this run is incremental")
    connect_sandboxes(store, ct, cl)


def connect_sandboxes(store: "Store", ct: manager.Sandbox, cl: manager.Sandbox) -> None:
    """The two sandbox instances (added, or updated after a sandbox restart with new
    credentials) and the default bindings of the flows. The lookup tables the flows read are
    derived from the Commerce Layer sandbox as each run starts, as for any other pair of
    instances (the prebuilt flows' `lookups:`)."""
    service = Services(store)
    for name, sandbox in ((CT_INSTANCE, ct), (CL_INSTANCE, cl)):
        # the sandbox hands out exactly the connector's fields
        service.instances.ensure(sandbox.platform, name, dict(sandbox.credentials))
    for flow, source, destination in FLOWS:
        service.flows.enable(flow, source, destination)


def run_flow(
    store: "Store",
    name: str,
    source: str,
    destination: str,
    progress: Progress,
    *,
    queue: bool = False,
) -> RunView:
    """One prebuilt flow between the two sandbox instances: here, or with `queue` on the
    workers (`cartwire worker`, CARTWIRE_BROKER_URL), waited for until it ends, since the next
    flow depends on it."""
    service = Services(store)
    prepared = service.flows.prepare_run(name, source, destination)
    if not queue:
        return prepared.run(progress=progress)
    return service.runs.followed(prepared.enqueue().id, progress)
