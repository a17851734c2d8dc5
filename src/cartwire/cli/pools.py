"""`cartwire pools set|list|remove`: named concurrency pools that instances share.

An instance joins a pool with `cartwire instances add|update --pool NAME`; the pool's size caps
how many requests all of its instances have in flight at once, within one process (several
worker processes sharing a pool need Redis, a later step).
"""

from typing import Annotated, Any

import typer

from cartwire.cli.common import USAGE, JsonOption, emit_json, fail, out
from cartwire.cli.tables import Column, WideOption, print_table
from cartwire.http.shared_limits import DEFAULT_POOL_SIZE
from cartwire.instances.validation import NAME_PATTERN
from cartwire.store import InvalidRecord, PoolNotFound, Store

app = typer.Typer(no_args_is_help=True, help="Concurrency pools shared by instances.")


@app.command("set")
def set_(
    name: Annotated[str, typer.Argument(help="Pool name, as instances' --pool gives it.")],
    size: Annotated[int, typer.Option("--size", help="Requests in flight at most.")],
    as_json: JsonOption = False,
) -> None:
    """Create a pool or change its size (running processes pick it up on their next open)."""
    if not NAME_PATTERN.fullmatch(name):
        raise fail(f"invalid pool name {name!r}: expected a name like 'shared-ct'", USAGE)
    if size < 1:
        raise fail(f"--size must be at least 1, got {size}", USAGE)
    with Store.open() as store:
        try:
            record = store.pools.set(name, size)
        except InvalidRecord as exc:
            raise fail(str(exc), USAGE) from None
        members = store.pools.members().get(name, [])
    if as_json:
        emit_json({"name": record.name, "size": record.size, "instances": members})
    else:
        out.print(f"pool {name}: at most {size} request(s) in flight ({len(members)} instance(s))")


@app.command("list")
def list_(as_json: JsonOption = False, wide: WideOption = False) -> None:
    """Every pool with its size and instances, including pools instances name but no size was
    set for (they run at the default size)."""
    with Store.open() as store:
        stored = {pool.name: pool.size for pool in store.pools.all()}
        members = store.pools.members()
    rows: list[dict[str, Any]] = [
        {
            "name": name,
            "size": stored.get(name, DEFAULT_POOL_SIZE),
            "default": name not in stored,
            "instances": members.get(name, []),
        }
        for name in sorted(stored.keys() | members.keys())
    ]
    if as_json:
        emit_json(rows)
        return
    print_table(
        (
            Column("name", give="shorten", shortest=16),
            Column("size", priority=1, give="wrap"),
            Column("instances", priority=2, give="wrap"),
        ),
        [
            [
                row["name"],
                f"{row['size']} (default, not set)" if row["default"] else str(row["size"]),
                ", ".join(row["instances"]),
            ]
            for row in rows
        ],
        wide=wide,
    )


@app.command()
def remove(name: Annotated[str, typer.Argument(help="Pool name.")]) -> None:
    """Forget a pool's size; instances still naming it run at the default size."""
    with Store.open() as store:
        try:
            store.pools.remove(name)
        except PoolNotFound:
            raise fail(f"no pool named {name!r}; see `cartwire pools list`", USAGE) from None
        members = store.pools.members().get(name, [])
    note = f"; {', '.join(members)} now run at the default size" if members else ""
    out.print(f"removed pool {name}{note}")
