"""`/openapi.json` and `/docs` (Swagger UI, served from the vendored copy so it works offline),
behind authentication like every route but `/health`: the schema is a map of the installation."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from cartwire.api.security import Reader

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
def openapi(request: Request, _who: Reader) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/docs")
def docs(_who: Reader) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="cartwire API",
        swagger_js_url="/static/vendor/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui.css",
    )
