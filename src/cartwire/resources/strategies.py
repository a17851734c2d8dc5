"""Writers by the names connector files use for them."""

from cartwire.connectors.schema import Endpoint
from cartwire.http.client import ApiClient
from cartwire.platforms import commercelayer, commercetools
from cartwire.resources.writer import Writer

WRITERS: dict[str, type[Writer]] = {
    cls.name: cls for cls in (*commercetools.WRITERS, *commercelayer.WRITERS)
}


def writer_for(api: ApiClient, endpoint: Endpoint) -> Writer:
    if endpoint.write is None:
        raise ValueError(f"endpoint {endpoint.name!r} does not send records")
    cls = WRITERS.get(endpoint.write.strategy)
    if cls is None:
        known = ", ".join(sorted(WRITERS)) or "none"
        raise ValueError(
            f"endpoint {endpoint.name!r}: unknown write strategy {endpoint.write.strategy!r} "
            f"(known: {known})"
        )
    return cls(api, endpoint)
