"""`cartwire pools set|list|remove`: named concurrency pools that instances share.

An instance joins a pool with `cartwire instances add|update --pool NAME`; the pool's size caps
how many requests all of its instances have in flight at once: in one process, or in all the
processes of a deployment whose limits are in Redis (`cartwire worker`, docs/workers.md).
"""

from collections.abc import Callable
from typing import Annotated

import typer

from cartwire.cli.common import (
    USAGE,
    JsonOption,
    emit_json,
    errors_as_messages,
    fail,
    out,
    services,
)
from cartwire.cli.tables import Column, WideOption, print_table


def _handlers() -> dict[type[Exception], Callable[[Exception], typer.Exit]]:
    from cartwire.services.errors import InvalidRecord, PoolRejected

    return {
        PoolRejected: lambda exc: fail(str(exc), USAGE),
        InvalidRecord: lambda exc: fail(str(exc), USAGE),
    }


app = typer.Typer(no_args_is_help=True, help="Concurrency pools shared by instances.")


@app.command("set")
def set_(
    name: Annotated[str, typer.Argument(help="Pool name, as instances' --pool gives it.")],
    size: Annotated[int, typer.Option("--size", help="Requests in flight at most.")],
    as_json: JsonOption = False,
) -> None:
    """Create a pool or change its size (running processes pick it up on their next open)."""
    with errors_as_messages(_handlers), services() as service:
        pool = service.pools.set(name, size)
    if as_json:
        emit_json({"name": pool.name, "size": pool.size, "instances": pool.instances})
    else:
        count = len(pool.instances)
        out.print(f"pool {name}: at most {size} request(s) in flight ({count} instance(s))")


@app.command("list")
def list_(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """Every pool with its size and instances, including pools instances name but no size was
    set for (they run at the default size)."""
    with services() as service:
        pools = service.pools.all()
    if as_json:
        emit_json([pool.model_dump() for pool in pools])
        return
    print_table(
        (
            Column("name", give="shorten", shortest=16),
            Column("size", priority=1, give="wrap"),
            Column("instances", priority=2, give="wrap"),
        ),
        [
            [
                pool.name,
                f"{pool.size} (default, not set)" if pool.default else str(pool.size),
                ", ".join(pool.instances),
            ]
            for pool in pools
        ],
        wide=wide,
    )


@app.command()
def remove(name: Annotated[str, typer.Argument(help="Pool name.")]) -> None:
    """Forget a pool's size; instances still naming it run at the default size."""
    with errors_as_messages(_handlers), services() as service:
        members = service.pools.remove(name)
    note = f"; {', '.join(members)} now run at the default size" if members else ""
    out.print(f"removed pool {name}{note}")
