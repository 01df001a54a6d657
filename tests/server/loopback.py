"""An ASGI app served on a loopback port in the test's own event loop (for what needs a real socket)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT = 30.0


def free_port() -> int:
    """A port free a moment ago, for a server that must know its URL before it listens (an OAuth resource
    URL, redis-server, which cannot bind port 0). Another process may take it in between: such a server
    fails to start, loudly; subprocess servers bind port 0 instead (procs.py)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def serving(app: ASGIApp, port: int) -> AsyncIterator[None]:
    """`app` on 127.0.0.1:`port`, in this event loop, until the block ends."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(START_TIMEOUT):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
                await anyio.sleep(0.01)
        try:
            yield
        finally:
            server.should_exit = True
