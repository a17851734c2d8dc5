"""cartwire: a self-hostable integration engine for composable commerce.

`cartwire.connect("NAME")` returns an authenticated httpx client for a saved instance, and
`cartwire.aconnect("NAME")` its asyncio twin; `cartwire.open("NAME")` reads and writes its
records by endpoint name.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cartwire.services.python_api import aconnect, connect
    from cartwire.services.python_api import open_instance as open


def __getattr__(name: str) -> Any:
    # Imported on first use so that `import cartwire` (and the CLI's start-up) stays light.
    if name in ("connect", "aconnect", "open"):
        from cartwire.services import python_api

        return getattr(python_api, "open_instance" if name == "open" else name)
    raise AttributeError(name)


__all__ = ["aconnect", "connect", "open"]
