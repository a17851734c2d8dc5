"""Writing commercetools records: upserts by natural key, updates as diffed update actions."""

from cartwire.platforms.commercetools.base import CtWriter
from cartwire.platforms.commercetools.customers import CustomerWriter
from cartwire.platforms.commercetools.products import ProductWriter
from cartwire.platforms.commercetools.simple import (
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
