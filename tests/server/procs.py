"""The real server as a subprocess: a free port, an environment without credentials, readiness without sleeps.

`spawn` only starts the process (and guarantees it is stopped), `wait_until_listening` waits for it;
`spawn_listening` starts several servers first and then waits for them, so they import side by side.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncGenerator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import Process

SERVER_COMMAND = (sys.executable, "-m", "mcp_anyreach")
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(**extra: str) -> dict[str, str]:
    """This environment without any Anyreach credential or server setting, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ANYREACH_", "MCP_ANYREACH_"))}
    return env | extra


@dataclass(frozen=True)
class RunningServer:
    process: Process
    port: int
    log: Path

    def url(self, path: str = "/mcp") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@asynccontextmanager
async def spawn(log: Path, *flags: str, env: Mapping[str, str] | None = None) -> AsyncGenerator[RunningServer]:
    """`mcp-anyreach serve --db :memory: --port <free> FLAGS` on the sandbox, stdout and stderr into `log`."""
    port = free_port()
    command = [*SERVER_COMMAND, "serve", "--db", ":memory:", "--port", str(port), *flags]
    with log.open("wb") as sink:
        process = await anyio.open_process(
            command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, env=dict(env or server_env())
        )
    async with process:
        try:
            yield RunningServer(process, port, log)
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
    """Poll the port until it accepts a connection; fail with the server's output if it dies or never listens."""
    try:
        with anyio.fail_after(READY_TIMEOUT):
            while True:
                if server.process.returncode is not None:
                    raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.output()}")
                try:
                    stream = await anyio.connect_tcp("127.0.0.1", server.port)
                except OSError:
                    await anyio.sleep(0.05)
                    continue
                await stream.aclose()
                return
    except TimeoutError as exc:
        raise TimeoutError(f"server not listening after {READY_TIMEOUT}s:\n{server.output()}") from exc
