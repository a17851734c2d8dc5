"""Reading a collection as the shards of a run do: cut once (`OpenedInstance.shards`), then
each shard walked on its own from its checkpoint."""

from typing import Any

from cartwire.resources import Platform


def shard_ids(
    platform: Platform, endpoint: str, parts: int, least: int, **filters: Any
) -> list[list[str]]:
    """The ids each shard reads, in shard order ([] when the read stayed whole)."""
    given = filters or None
    starts = platform.shards(endpoint, parts, least=least, filters=given)
    return [
        [
            record["id"]
            for page in platform.pages(endpoint, resume=start, filters=given)
            for record in page.records
        ]
        for start in starts
    ]
