"""`/connectors`: what each installed connector offers and the credential fields each of its
auth methods asks for, with the connector file's labels and notes."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from cartwire.api.ui.pages import render, viewer
from cartwire.services import connectors as catalogue
from cartwire.services.access import Principal

router = APIRouter()


@router.get("/connectors", response_class=HTMLResponse)
def connectors(request: Request, principal: Annotated[Principal, Depends(viewer)]) -> HTMLResponse:
    found = catalogue.list_connectors()
    return render(request, "connectors.html", principal, title="Connectors", connectors=found)
