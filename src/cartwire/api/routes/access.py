"""`/api/v1/apikeys`, `/api/v1/users` (admins only) and `/api/v1/whoami`: the same operations
as `cartwire apikeys …` and `cartwire users …`."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from cartwire.api.security import Admin, ServicesDep, authenticated
from cartwire.services.access import ApiKeyView, CreatedKey, Principal, Role, UserView

router = APIRouter(tags=["access"])


class KeyRequest(BaseModel):
    name: str
    role: Role


class UserRequest(BaseModel):
    name: str
    role: Role
    password: str = Field(description="At least 12 characters")


class WhoAmI(BaseModel):
    name: str
    role: Role
    kind: Literal["key", "user"]


@router.get("/whoami")
def whoami(who: Annotated[Principal, Depends(authenticated)]) -> WhoAmI:
    return WhoAmI(name=who.name, role=who.role, kind=who.kind)


@router.get("/apikeys")
def list_keys(_who: Admin, services: ServicesDep) -> list[ApiKeyView]:
    return services.access.keys()


@router.post("/apikeys", status_code=201)
def create_key(body: KeyRequest, _who: Admin, services: ServicesDep) -> CreatedKey:
    """The key is in this answer only; cartwire keeps its digest."""
    return services.access.create_key(body.name, body.role)


@router.delete("/apikeys/{name}")
def revoke_key(name: str, _who: Admin, services: ServicesDep) -> ApiKeyView:
    return services.access.revoke(name)


@router.get("/users")
def list_users(_who: Admin, services: ServicesDep) -> list[UserView]:
    return services.access.users()


@router.post("/users", status_code=201)
def add_user(body: UserRequest, _who: Admin, services: ServicesDep) -> UserView:
    return services.access.add_user(body.name, body.role, body.password)


@router.delete("/users/{name}", status_code=204)
def remove_user(name: str, _who: Admin, services: ServicesDep) -> Response:
    services.access.remove_user(name)
    return Response(status_code=204)
