"""`/api/v1/connectors`: what each connector offers and the credential fields it asks for, in
the shape of `cartwire connectors show --json`."""

from typing import Any

from fastapi import APIRouter

from cartwire.api.security import Reader
from cartwire.services import connectors as catalogue

router = APIRouter(prefix="/connectors", tags=["connectors"])


@router.get("")
def list_connectors(_who: Reader) -> list[dict[str, Any]]:
    return [catalogue.describe(c) for c in catalogue.list_connectors()]


@router.get("/{name}")
def show_connector(name: str, _who: Reader) -> dict[str, Any]:
    return catalogue.describe(catalogue.get(name))
