"""The real server as a subprocess: any free port, an environment without credentials, readiness without sleeps.

Each server binds port 0 and logs the URL it got (`serving streamable-http on http://127.0.0.1:43127/mcp`), so
no port is picked by the test and then raced for. `spawn` only starts the process (and guarantees it is
stopped), `wait_until_listening` waits for that line; `spawn_listening` starts several servers first and then
waits for them, so they import side by side.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncGenerator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import anyio
from anyio.abc import Process

SERVER_COMMAND = (sys.executable, "-m", "mcp_anyreach")
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
SERVING_LINE = re.compile(r"serving (?:streamable-http|sse) on (http://\S+)")


def server_env(**extra: str) -> dict[str, str]:
    """This environment without any Anyreach credential or server setting, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ANYREACH_", "MCP_ANYREACH_"))}
    return env | extra


def announced_url(output: str) -> str | None:
    """The URL from a server's `serving ... on URL` start-up line, or None before it is logged."""
    found = SERVING_LINE.search(output)
    return found.group(1) if found else None


@dataclass(frozen=True)
class RunningServer:
    process: Process
    log: Path

    @cached_property
    def port(self) -> int:
        """The port the server bound and announced (after `wait_until_listening`)."""
        url = announced_url(self.output())
        if url is None:
            raise RuntimeError(f"the server has not announced its URL yet:\n{self.output()}")
        port = urlsplit(url).port
        assert port is not None, url
        return port

    def url(self, path: str = "/mcp") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@asynccontextmanager
async def spawn(log: Path, *flags: str, env: Mapping[str, str] | None = None) -> AsyncGenerator[RunningServer]:
    """`mcp-anyreach serve --db :memory: --port 0 FLAGS` on the sandbox, stdout and stderr into `log`."""
    command = [*SERVER_COMMAND, "serve", "--db", ":memory:", "--port", "0", *flags]
    with log.open("wb") as sink:
        process = await anyio.open_process(
            command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, env=dict(env or server_env())
        )
    async with process:
        try:
            yield RunningServer(process, log)
        finally:
            with anyio.CancelScope(shield=True):
                await stop(process)


async def spawn_listening(
    stack: AsyncExitStack, *launches: AbstractAsyncContextManager[RunningServer]
) -> list[RunningServer]:
    """Enter every `spawn(...)` on `stack` (all start at once), then wait until each one listens."""
    started = [await stack.enter_async_context(launch) for launch in launches]
    for server in started:
        await wait_until_listening(server)
    return started


async def stop(process: Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    with anyio.move_on_after(STOP_TIMEOUT):
        await process.wait()
        return
    process.kill()
    await process.wait()


async def wait_until_listening(server: RunningServer) -> None:
    """Until the server logs the URL it listens on (it does once the socket accepts); fail with its output if
    it exits first or never gets there."""
    try:
        with anyio.fail_after(READY_TIMEOUT):
            while announced_url(server.output()) is None:
                if server.process.returncode is not None:
                    raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.output()}")
                await anyio.sleep(0.05)
    except TimeoutError as exc:
        raise TimeoutError(f"server not listening after {READY_TIMEOUT}s:\n{server.output()}") from exc
