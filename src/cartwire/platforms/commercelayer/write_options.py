"""The Commerce Layer writer's options, read and checked as the connector file loads (a light
module: `cartwire.connectors.write_options` says why)."""

from dataclasses import dataclass

from cartwire.connectors.schema import Endpoint
from cartwire.connectors.write_options import Options

MAX_INPUTS = 10_000  # inputs one import takes at most
KNOWN = frozenset(
    {
        "type",
        "relationships",
        "write_only",
        "importable",
        "import_parent",
        "bulk_threshold",
        "concurrency",
        "skip_errors",
        "import_size",
        "import_poll_seconds",
        "import_timeout_seconds",
    }
)


@dataclass(frozen=True)
class ClOptions:
    """What `CommerceLayerWriter` takes (its docstring says what each is for)."""

    type: str
    relationships: dict[str, str]
    write_only: frozenset[str]
    importable: bool
    import_parent: str | None
    bulk_threshold: int
    concurrency: int
    skip_errors: bool
    import_size: int
    import_poll_seconds: float
    import_timeout_seconds: float


def cl_options(endpoint: Endpoint) -> ClOptions:
    options = Options(endpoint, KNOWN)
    return ClOptions(
        type=options.text("type", None) or endpoint.path,
        relationships=options.mapping("relationships"),
        write_only=options.names("write_only"),
        importable=options.flag("importable", False),
        import_parent=options.text("import_parent", None),
        bulk_threshold=options.count("bulk_threshold", 100, least=0),
        concurrency=options.count("concurrency", 4),
        skip_errors=options.flag("skip_errors", True),
        import_size=options.count("import_size", MAX_INPUTS),
        import_poll_seconds=options.seconds("import_poll_seconds", 0.5),
        import_timeout_seconds=options.seconds("import_timeout_seconds", 3600),
    )
