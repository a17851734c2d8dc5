"""commercetools as a plug-in: its connector file, keyset paginators and writers (upserts by
natural key, updates as diffed update actions), registered by name and imported on first use."""

from cartwire.platforms.registry import CONNECTOR_FILE, PAGINATOR, WRITER, Registry


def register(registry: Registry) -> None:
    """The `cartwire.platforms` entry point."""
    registry.add(CONNECTOR_FILE, "commercetools", f"{__name__}:connector.yaml")
    registry.add(PAGINATOR, "ct_id_keyset", f"{__name__}.paging:IdKeyset")
    registry.add(PAGINATOR, "ct_modified_keyset", f"{__name__}.paging:ModifiedKeyset")
    for name, ref in [
        ("ct_products", "products:ProductWriter"),
        ("ct_categories", "simple:CategoryWriter"),
        ("ct_inventory", "simple:InventoryWriter"),
        ("ct_standalone_prices", "simple:StandalonePriceWriter"),
        ("ct_channels", "simple:ChannelWriter"),
        ("ct_customers", "customers:CustomerWriter"),
        ("ct_order_import", "simple:OrderImportWriter"),
    ]:
        registry.add(WRITER, name, f"{__name__}.{ref}")
