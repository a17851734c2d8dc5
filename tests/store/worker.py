"""A separate cartwire process for the multi-process store tests (not collected by pytest).

Each command prints JSON lines on stdout. `rotate --pause PHASE` stops the rotation at a named
point (by wrapping store internals in this process only) and announces it, so the test can
SIGKILL it exactly there; `--pause-at-row N` stops it, and announces that, just before it
re-encrypts its N-th value (counted over all rounds), so a "random moment" is a random row the
test picks, never a guess at how fast this machine rotates.
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import patch

from cartwire import home
from cartwire.store import CachedToken, Store
from cartwire.store import secrets as secrets_module
from cartwire.store.secrets import Keyring
from tests.store.helpers import make_record as record
from tests.store.helpers import secret_for, token_for

PHASES = (
    "keyring-add-half-written",  # new keyring in the .tmp file, not yet renamed into place
    "key-added",  # keyring [new, old] in place, nothing re-encrypted
    "instances-reencrypted",  # instances updated inside the open transaction, tokens not yet
    "committed",  # transaction committed, old key not yet dropped
    "keyring-drop-half-written",  # keyring [new] in the .tmp file, not yet renamed into place
)


def emit(value: object) -> None:
    print(json.dumps(value), flush=True)


def pause(phase: str) -> None:
    emit({"paused": phase})
    time.sleep(600)
    sys.exit("not killed")


def token(value: str) -> CachedToken:
    now = datetime.now(UTC)
    return CachedToken(value, now + timedelta(hours=1), "manage_project", now)


def add(prefix: str, count: int) -> None:
    """Add instances with a token each, re-reading the whole store as we go."""
    with Store.open() as store:
        for number in range(count):
            name = f"{prefix}-{number:03d}"
            store.instances.add(record(name))
            store.tokens.save(f"key-{name}", name, token(token_for(name)))
            seen = store.instances.all()
            for other in seen:
                assert other.secrets == {"client_secret": secret_for(other.name)}
            loaded = store.tokens.load(f"key-{name}")
            assert loaded is not None
            assert loaded.access_token == token_for(name)
        emit({"added": count})


def race_open(name: str, go_file: str) -> None:
    """Open a store the moment `go_file` appears, racing other workers to create it; says when
    it is watching, so the test starts the race only once every racer is."""
    emit({"waiting": name})
    while not Path(go_file).exists():
        time.sleep(0.001)
    with Store.open() as store:
        store.instances.add(record(name))
        store.tokens.save(f"key-{name}", name, token(token_for(name)))
    emit({"opened": name})


def token_loop(instance: str, stop_file: str) -> None:
    """Keep re-saving one token with a Store opened before any concurrent rotation, until
    `stop_file` appears; says when the first one is saved (each value is numbered, so the test
    sees in the store when one was saved after its rotation)."""
    with Store.open() as store:
        count = 0
        while count == 0 or not Path(stop_file).exists():
            value = f"{token_for(instance)}-{count}"
            store.tokens.save(f"loop-{instance}", instance, token(value))
            loaded = store.tokens.load(f"loop-{instance}")
            assert loaded is not None
            assert loaded.access_token == value
            count += 1
            if count == 1:
                emit({"looping": instance})
        emit({"saved": count, "last": value})


def rotate(phase: str | None, pause_at_row: int | None, rounds: int) -> None:
    counts = {"write_private": 0, "rows": 0}
    write_private = home.write_private

    def slow_write(path: Path, text: str) -> None:
        counts["write_private"] += 1
        half = {1: "keyring-add-half-written", 2: "keyring-drop-half-written"}
        if phase is not None and phase == half.get(counts["write_private"]):
            tmp = path.with_name(path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            pause(phase)
        write_private(path, text)

    add_key, rotate_token, drop_old = Keyring.add_key, Keyring.rotate_token, Keyring.drop_old

    def paused_add_key(self: Keyring, key: bytes) -> Keyring:
        ring = add_key(self, key)
        if phase == "key-added":
            pause(phase)
        return ring

    def slow_rotate_token(self: Keyring, value: str, *, column: str, instance: str | None) -> str:
        if phase == "instances-reencrypted" and column.startswith("tokens."):
            pause(phase)
        counts["rows"] += 1
        if counts["rows"] == pause_at_row:
            pause(f"row {pause_at_row}")
        return rotate_token(self, value, column=column, instance=instance)

    def paused_drop_old(self: Keyring) -> Keyring:
        if phase == "committed":
            pause(phase)
        return drop_old(self)

    with (
        patch.object(secrets_module, "write_private", slow_write),
        patch.object(Keyring, "add_key", paused_add_key),
        patch.object(Keyring, "rotate_token", slow_rotate_token),
        patch.object(Keyring, "drop_old", paused_drop_old),
        Store.open() as store,
    ):
        store.instances.all()  # connected and keyring loaded: the rotation is all that's left
        emit({"ready": True})
        for _ in range(rounds):
            emit({"rotated": store.encryption.rotate()})


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    add_cmd = commands.add_parser("add")
    add_cmd.add_argument("prefix")
    add_cmd.add_argument("count", type=int)
    race = commands.add_parser("race-open")
    race.add_argument("name")
    race.add_argument("go_file")
    loop = commands.add_parser("token-loop")
    loop.add_argument("instance")
    loop.add_argument("stop_file")
    rot = commands.add_parser("rotate")
    rot.add_argument("--pause", choices=PHASES)
    rot.add_argument("--pause-at-row", type=int)
    rot.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if args.command == "add":
        add(args.prefix, args.count)
    elif args.command == "race-open":
        race_open(args.name, args.go_file)
    elif args.command == "token-loop":
        token_loop(args.instance, args.stop_file)
    else:
        rotate(args.pause, args.pause_at_row, args.rounds)


if __name__ == "__main__":
    main()
