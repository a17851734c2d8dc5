"""`/api/v1/instances`: added with field validation and a credential test, read with secrets
masked, changed with a re-test, tested, and deleted under the in-use rule."""

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from cartwire.api.security import Manager, Operator, Reader, ServicesDep
from cartwire.services.instances import CredentialTest, InstanceView, Settings

router = APIRouter(prefix="/instances", tags=["instances"])

Unit = Literal["second", "minute", "hour", "day"]


class RateLimit(BaseModel):
    amount: int = Field(ge=1, description="Requests allowed per unit")
    unit: Unit


class InstanceCreate(BaseModel):
    name: str = Field(description="1 to 64 letters, digits, '.', '_' or '-'")
    connector: str
    auth_method: str | None = Field(
        default=None, description="Key of the auth method; default first"
    )
    fields: dict[str, str] = Field(default_factory=dict, description="Credential fields by key")
    timezone: str = "UTC"
    rate_limit: RateLimit | None = None
    pool: str | None = None
    test: bool = Field(default=True, description="Fetch a token before saving (default)")


class InstanceUpdate(BaseModel):
    """Only what is given changes; changed auth fields are tested before they are saved."""

    fields: dict[str, str] = Field(default_factory=dict)
    timezone: str | None = None
    rate_limit: RateLimit | None = None
    pool: str | None = None
    test: bool = True


def _settings(
    base: Settings, timezone: str | None, rate: RateLimit | None, pool: str | None
) -> Settings:
    return Settings(
        timezone or base.timezone,
        rate.amount if rate else base.rate_limit_amount,
        rate.unit if rate else base.rate_limit_unit,
        pool if pool is not None else base.pool,
    )


@router.get("")
def list_instances(_who: Reader, services: ServicesDep) -> list[InstanceView]:
    return services.instances.all()


@router.post("", status_code=201)
def create_instance(body: InstanceCreate, _who: Manager, services: ServicesDep) -> InstanceView:
    settings = _settings(Settings(), body.timezone, body.rate_limit, body.pool)
    return services.instances.add(
        body.connector,
        body.name,
        body.fields,
        settings,
        test=body.test,
        auth_method=body.auth_method,
    )


@router.get("/{name}")
def show_instance(name: str, _who: Reader, services: ServicesDep) -> InstanceView:
    return services.instances.get(name)


@router.patch("/{name}")
def update_instance(
    name: str, body: InstanceUpdate, _who: Manager, services: ServicesDep
) -> InstanceView:
    current = services.instances.get(name)
    settings = _settings(current.settings, body.timezone, body.rate_limit, body.pool)
    return services.instances.update(name, body.fields, settings, test=body.test)


@router.post("/{name}/test")
def test_instance(name: str, _who: Operator, services: ServicesDep) -> CredentialTest:
    """Fetch a brand-new token: `status` is operational, unreachable or failed authentication.
    (It asks the platform for a token, so a read-only role may not.)"""
    return services.instances.test(name)


@router.delete("/{name}", status_code=204)
def delete_instance(
    name: str, _who: Manager, services: ServicesDep, force: bool = False
) -> Response:
    """Refused (409) while a flow is bound to the instance, unless `force`."""
    services.instances.remove(name, force=force)
    return Response(status_code=204)
