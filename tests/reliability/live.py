"""A sandbox on a real loopback port in this process, and servers spawned against it.

The sandbox runs in a thread of the test process, so a test reads `request_counts` and the store directly
while `python -m mcp_anyreach` subprocesses reach it over HTTP as they would the real API.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import uvicorn
from mcp_types import CallToolResult
from starlette.types import ASGIApp

from mcp_anyreach.sandbox import Sandbox, open_sandbox
from tests.server.procs import server_env

START_TIMEOUT = 30.0
CONFIRM_SECRET = "confirm-secret-canary-5d21e0-0123456789abcdef"


@dataclass(frozen=True)
class LiveSandbox:
    sandbox: Sandbox
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def counts(self) -> Counter[str]:
        """HTTP methods the sandbox has served, counted as requests arrive."""
        return self.sandbox.app.state.request_counts

    def env(self, token: str | None = None, **extra: str) -> dict[str, str]:
        """A clean environment for a server on this sandbox, with the demo org's key unless `token` is given."""
        credential = self.sandbox.seed.demo.api_key if token is None else token
        return server_env(ANYREACH_TOKEN=credential, ANYREACH_BASE_URL=self.base_url, **extra)


@asynccontextmanager
async def live_sandbox(
    sandbox: Sandbox | None = None, port: int = 0, wrap: Callable[[ASGIApp], ASGIApp] | None = None
) -> AsyncIterator[LiveSandbox]:
    """A sandbox (fresh and in memory unless given) served by uvicorn on a loopback port (port 0: the kernel
    picks one) until the block ends. `wrap` puts a test's own middleware in front of it (to hold a request at
    a chosen moment)."""
    sandbox = sandbox or open_sandbox(":memory:")
    app = sandbox.app if wrap is None else wrap(sandbox.app)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-sandbox", daemon=True)
    thread.start()
    try:
        with anyio.fail_after(START_TIMEOUT):
            while not server.started:
                if not thread.is_alive():
                    raise RuntimeError("the live sandbox stopped before it started")
                await anyio.sleep(0.01)
        yield LiveSandbox(sandbox, int(server.servers[0].sockets[0].getsockname()[1]))
    finally:
        server.should_exit = True
        await anyio.to_thread.run_sync(thread.join, START_TIMEOUT)


def data(result: CallToolResult) -> Any:
    """The structured content of a successful tool call (failing with the error text otherwise)."""
    assert not result.is_error, result.content[0].text if result.content else result
    return result.structured_content


def texts(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def only_gets(counts: Iterable[str]) -> bool:
    return set(counts) <= {"GET"}
