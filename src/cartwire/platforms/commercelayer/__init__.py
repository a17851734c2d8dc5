"""Commerce Layer as a plug-in: its connector file, JSON:API paginators, the writer (JSON:API
writes, upserts by natural key, bulk Imports) and the throttle that keeps to its rate limits,
registered by name and imported on first use."""

from cartwire.platforms.registry import CONNECTOR_FILE, PAGINATOR, THROTTLE, WRITER, Registry


def register(registry: Registry) -> None:
    """The `cartwire.platforms` entry point."""
    registry.add(CONNECTOR_FILE, "commercelayer", f"{__name__}:connector.yaml")
    registry.add(PAGINATOR, "cl_page_number", f"{__name__}.paging:ClPageNumber")
    registry.add(PAGINATOR, "cl_id_keyset", f"{__name__}.paging:ClIdKeyset")
    registry.add(PAGINATOR, "cl_updated_keyset", f"{__name__}.paging:ClUpdatedKeyset")
    registry.add(WRITER, "commercelayer", f"{__name__}.writer:CommerceLayerWriter")
    registry.add(THROTTLE, "commercelayer_limits", f"{__name__}.limits:commercelayer_limits")
