"""Writing commercetools records: upserts by natural key, updates as diffed update actions."""

from cartwire.resources.commercetools.base import CtWriter
from cartwire.resources.commercetools.customers import CustomerWriter
from cartwire.resources.commercetools.products import ProductWriter
from cartwire.resources.commercetools.simple import (
    CategoryWriter,
    ChannelWriter,
    InventoryWriter,
    OrderImportWriter,
    StandalonePriceWriter,
)
from cartwire.resources.writer import Writer

WRITERS: tuple[type[Writer], ...] = (
    ProductWriter,
    CategoryWriter,
    InventoryWriter,
    StandalonePriceWriter,
    ChannelWriter,
    CustomerWriter,
    OrderImportWriter,
)

__all__ = ["WRITERS", "CtWriter"]
