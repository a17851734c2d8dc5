"""Writing Commerce Layer records: JSON:API writes, upserts by natural key, bulk Imports."""

from cartwire.platforms.commercelayer.writer import CommerceLayerWriter
from cartwire.resources.writer import Writer

WRITERS: tuple[type[Writer], ...] = (CommerceLayerWriter,)
