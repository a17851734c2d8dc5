"""`/api/v1/lookups`: the lookup tables flows translate values with (source → target)."""

from fastapi import APIRouter
from pydantic import BaseModel

from cartwire.api.problems import ApiProblem, FieldError
from cartwire.api.security import Manager, Reader, ServicesDep
from cartwire.services.lookups import table_name_problem

router = APIRouter(prefix="/lookups", tags=["lookups"])


class LookupTable(BaseModel):
    table: str
    rows: dict[str, str]


@router.get("")
def list_lookups(_who: Reader, services: ServicesDep) -> dict[str, int]:
    """Every table and how many rows it holds."""
    return services.lookups.sizes()


@router.get("/{table}")
def show_lookup(table: str, _who: Reader, services: ServicesDep) -> LookupTable:
    return LookupTable(table=table, rows=services.lookups.get(table))


@router.put("/{table}")
def replace_lookup(
    table: str, rows: dict[str, str], _who: Manager, services: ServicesDep
) -> LookupTable:
    """The table becomes exactly `rows`."""
    bad_name = table_name_problem(table)
    if bad_name:
        raise ApiProblem(422, bad_name, [FieldError(field="table", rule="slug", message=bad_name)])
    services.lookups.replace(table, rows)
    return LookupTable(table=table, rows=services.lookups.get(table))
