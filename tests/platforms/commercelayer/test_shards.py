"""A Commerce Layer read cut into the shards of a run: ids are opaque, so the cut points are
asked of the server (a count, then each cut a shard's length past the previous one), and the
shards together read every record once, in ranges that follow one another."""

from cartwire.resources import Platform
from tests.platforms.cl_support import Admin, skus, watched
from tests.platforms.shards_support import shard_ids


def test_shards_read_every_record_once_in_consecutive_ranges(
    platform: Platform, admin: Admin
) -> None:
    loaded = skus(admin, 1_000)
    with watched(platform) as sent:
        parts = shard_ids(platform, "skus", 4, least=100)
    asked = [r for r in sent if r.url.params.get("page[size]") == "1"]
    assert len(asked) == 4  # the count and three cuts, nothing else before the pages
    assert [len(p) for p in parts] == [250, 250, 250, 250]
    read = [i for part in parts for i in part]
    assert sorted(read) == sorted(loaded)  # every record once
    assert read == sorted(read)  # each shard's range after the one before


def test_no_more_shards_than_hold_the_least_records_each(platform: Platform, admin: Admin) -> None:
    skus(admin, 120)
    assert [len(p) for p in shard_ids(platform, "skus", 8, least=50)] == [60, 60]
    assert shard_ids(platform, "skus", 8, least=121) == []  # too small to cut: read whole


def test_a_filtered_read_is_counted_and_cut_within_its_filter(
    platform: Platform, admin: Admin
) -> None:
    skus(admin, 400)
    parts = shard_ids(platform, "skus", 2, least=10, **{"q.code_start": ["SKU-001"]})
    assert [len(p) for p in parts] == [50, 50]  # SKU-00100 to SKU-00199
