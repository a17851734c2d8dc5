"""commercetools as a plug-in: its connector file, keyset paginators, writers (upserts by
natural key, updates as diffed update actions), error codes and money objects, registered by
name and imported on first use."""

from cartwire.platforms.registry import (
    CONNECTOR_FILE,
    ERROR_CLASSIFIER,
    FLOW_FILE,
    MONEY_READER,
    PAGINATOR,
    WRITER,
    Registry,
)


def register(registry: Registry) -> None:
    """The `cartwire.platforms` entry point."""
    registry.add(CONNECTOR_FILE, "commercetools", f"{__name__}:connector.yaml")
    # The prebuilt flows that read from commercetools.
    for flow in (
        "ct-customers-to-cl-customers",
        "ct-inventory-to-cl-stock",
        "ct-products-to-cl-skus",
    ):
        registry.add(FLOW_FILE, flow, f"{__name__}:flows/{flow}.yaml")
    registry.add(ERROR_CLASSIFIER, "commercetools", f"{__name__}.errors:classify")
    registry.add(MONEY_READER, "commercetools", f"{__name__}.money:read_money")
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
