"""Commerce Layer as a plug-in: its connector file, JSON:API paginators, the writer (JSON:API
writes, upserts by natural key, bulk Imports), the throttle that keeps to its rate limits and
its signed webhooks, registered by name and imported on first use."""

from cartwire.platforms.registry import (
    CONNECTOR_FILE,
    ERROR_CLASSIFIER,
    FLOW_FILE,
    PAGINATOR,
    THROTTLE,
    WEBHOOK,
    WRITER,
    Registry,
)


def register(registry: Registry) -> None:
    """The `cartwire.platforms` entry point."""
    registry.add(CONNECTOR_FILE, "commercelayer", f"{__name__}:connector.yaml")
    # The prebuilt flows that read from commercelayer.
    for flow in (
        "cl-customers-to-ct-customers",
        "cl-orders-to-ct-orders",
    ):
        registry.add(FLOW_FILE, flow, f"{__name__}:flows/{flow}.yaml")
    registry.add(PAGINATOR, "cl_page_number", f"{__name__}.paging:ClPageNumber")
    registry.add(PAGINATOR, "cl_id_keyset", f"{__name__}.paging:ClIdKeyset")
    registry.add(PAGINATOR, "cl_updated_keyset", f"{__name__}.paging:ClUpdatedKeyset")
    registry.add(WRITER, "commercelayer", f"{__name__}.writer:CommerceLayerWriter")
    registry.add(THROTTLE, "commercelayer_limits", f"{__name__}.limits:commercelayer_limits")
    registry.add(ERROR_CLASSIFIER, "commercelayer", f"{__name__}.errors:classify")
    registry.add(WEBHOOK, "commercelayer", f"{__name__}.webhooks:WEBHOOK")
