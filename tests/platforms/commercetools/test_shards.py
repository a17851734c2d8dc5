"""A commercetools read cut into the shards of a run: one request for the total, then the id
space (random UUIDs) cut into equal ranges by their leading hex digits; the shards together
read every record once."""

from cartwire.resources import Platform
from tests.platforms.ct_support import Admin, bare_product, product_type, sent_urls
from tests.platforms.shards_support import shard_ids


def test_shards_read_every_record_once(platform: Platform, admin: Admin) -> None:
    admin.load("product-type", [product_type()])
    admin.load("product", [bare_product(n) for n in range(2_000)])
    with sent_urls(platform) as urls:
        parts = shard_ids(platform, "products", 4, least=100)
    assert urls[0].params["limit"] == "1"  # the total first ...
    assert urls[0].params["withTotal"] == "true"
    assert len(parts) == 4  # ... then no more shards than asked
    read = [i for part in parts for i in part]
    assert len(read) == len(set(read)) == 2_000
    assert read == sorted(read)  # each shard's range after the one before
    assert all(part for part in parts)


def test_no_more_shards_than_hold_the_least_records_each(platform: Platform, admin: Admin) -> None:
    admin.load("product-type", [product_type()])
    admin.load("product", [bare_product(n) for n in range(300)])
    assert len(shard_ids(platform, "products", 8, least=100)) == 3
    assert shard_ids(platform, "products", 8, least=301) == []
