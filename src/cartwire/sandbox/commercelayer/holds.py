"""Requests that a `hold` fault keeps waiting until the admin API releases them.

A test that must act while a request is in flight (change a record under a pending update,
signal a process mid-page) waits until the request is listed here, acts, then releases it: no
window of real time to hit on a loaded machine. Reset and shutdown release everything, so a
forgotten hold never leaves a client or the server's own stop hanging.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Held:
    id: str
    fault: str
    method: str
    path: str
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "fault": self.fault, "method": self.method, "path": self.path}


class UnknownHeld(LookupError):
    pass


class Holds:
    def __init__(self) -> None:
        self._held: dict[str, Held] = {}
        self._next = 0
        self._closed = False

    async def hold(self, fault: str, method: str, path: str) -> None:
        """Return once this request is released (at once when the server is stopping)."""
        if self._closed:
            return
        self._next += 1
        held = Held(f"held-{self._next}", fault, method, path)
        self._held[held.id] = held
        try:
            await held.released.wait()
        finally:
            self._held.pop(held.id, None)

    def release(self, held_id: str | None = None) -> list[str]:
        """Let one held request (or, without an id, all of them) carry on; their ids."""
        if held_id is None:
            chosen = list(self._held.values())
        elif held_id in self._held:
            chosen = [self._held[held_id]]
        else:
            raise UnknownHeld(held_id)
        for held in chosen:
            del self._held[held.id]
            held.released.set()
        return [held.id for held in chosen]

    def close(self) -> None:
        """Release everything, now and from now on: the server is stopping."""
        self._closed = True
        self.release()

    def describe(self) -> list[dict[str, Any]]:
        return [held.describe() for held in self._held.values()]
