"""The web UI: server-rendered pages (Jinja2) with htmx, over the service layer alone.

`router` holds every page; `cartwire.api.app` mounts it with the static assets beside it.
"""

from cartwire.api.ui.routes import router

__all__ = ["router"]
