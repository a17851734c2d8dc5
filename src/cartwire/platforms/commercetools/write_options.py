"""The commercetools writers' options, read and checked as the connector file loads (a light
module: `cartwire.connectors.write_options` says why)."""

from dataclasses import dataclass

from cartwire.connectors.schema import Endpoint
from cartwire.connectors.write_options import Options

DEFAULT_CONCURRENCY = 8
DEFAULT_CHUNK = 500
DEFAULT_CONFLICT_RETRIES = 3
KNOWN = frozenset({"concurrency", "chunk", "conflict_retries", "lookup_path"})


@dataclass(frozen=True)
class CtOptions:
    """What `CtWriter` takes (its docstring says what each is for)."""

    concurrency: int
    chunk: int
    conflict_retries: int
    lookup_path: str


def ct_options(endpoint: Endpoint) -> CtOptions:
    options = Options(endpoint, KNOWN)
    return CtOptions(
        concurrency=options.count("concurrency", DEFAULT_CONCURRENCY),
        chunk=options.count("chunk", DEFAULT_CHUNK),
        conflict_retries=options.count("conflict_retries", DEFAULT_CONFLICT_RETRIES, least=0),
        lookup_path=options.text("lookup_path", None) or endpoint.path,
    )
