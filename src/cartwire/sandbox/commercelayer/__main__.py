"""`python -m cartwire.sandbox.commercelayer`: serve the emulator on 127.0.0.1.

Prints `cartwire-cl-sandbox listening on http://HOST:PORT` once the socket accepts
connections, logs no per-request lines, and exits cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from types import FrameType

import uvicorn

from .app import create_app
from .gateway import DropLogFilter
from .holds import Holds
from .ratelimit import PROFILES
from .state import DEFAULT_ORGANIZATION, Settings


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m cartwire.sandbox.commercelayer",
        description="Local emulator of the Commerce Layer Core API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--organization", default=DEFAULT_ORGANIZATION)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--token-lifetime", type=int, default=7200, help="seconds")
    parser.add_argument("--rate-limits", choices=sorted(PROFILES), default="test")
    args = parser.parse_args(argv)
    return Settings(
        args.client_id,
        args.client_secret,
        host=args.host,
        port=args.port,
        organization=args.organization,
        token_lifetime=args.token_lifetime,
        rate_limits=args.rate_limits,
    )


class _Server(uvicorn.Server):
    """Announces the bound address once started; treats SIGTERM/SIGINT as a normal stop, first
    releasing held requests (uvicorn waits for every open request before it exits)."""

    def __init__(self, config: uvicorn.Config, holds: Holds) -> None:
        super().__init__(config)
        self.holds = holds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises captured signals after shutdown, which would make a requested stop
        # look like a crash (exit status -15) to whoever started us.
        self._captured_signals.clear()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.holds.close()
        await super().shutdown(sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:
            return
        for server in self.servers:
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                print(f"cartwire-cl-sandbox listening on http://{host}:{port}", flush=True)
                return


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
        lifespan="off",
        loop="uvloop",
        http="httptools",
    )
    logging.getLogger("uvicorn.error").addFilter(DropLogFilter())
    server = _Server(config, app.state.sandbox.holds)
    asyncio.run(server.serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
