"""Time per tool call: `list_phone_numbers` (limit 50) over stdio against a sandbox on a loopback port.

Beside it, in the same interleaved loop:
  (a) direct   the same page fetched from the same sandbox with an httpx2.AsyncClient (GET + .json())
  (b) floor    a trivial tool call over stdio. mcp-anyreach has no tool that skips the API, so the floor is
               bench/bare_server.py's `echo` tool: the SDK's own stdio round trip.
and, for information only, (c) list_phone_numbers with limit=0 on the same server: refused by argument
validation, so no API call, but the same process, dispatch and error path.
The sandbox is `mcp-anyreach sandbox` in its own process on a file database pre-filled to 100 numbers, so
every page holds 50. The ratio is call / (a + b). Target: under 1.25.

Run: python bench/call_overhead.py [--calls N]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
from _common import (
    BARE_COMMAND,
    SERVER_COMMAND,
    StdioSession,
    free_port,
    machine,
    median_ms,
    server_env,
    wait_listening,
)

from mcp_anyreach.sandbox import open_sandbox

LIMIT = 50
NUMBERS = 100
WARMUP = 30
MAX_RATIO = 1.25


def prepare_db(path: Path) -> str:
    """Seed a sandbox database file with NUMBERS numbers in the demo org; return its all-scopes API key."""
    sandbox = open_sandbox(path)
    demo = sandbox.seed.demo
    sandbox.store.bulk_add_numbers(demo.org_id, demo.byoc_trunk_id, NUMBERS - 5)  # the seed holds 5
    sandbox.store.close()
    return demo.api_key


@contextmanager
def port_sandbox(db: Path, log: Path) -> Generator[int]:
    port = free_port()
    command = [*SERVER_COMMAND, "sandbox", "--port", str(port), "--db", str(db)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
    try:
        try:
            wait_listening(process, port)
        except RuntimeError:
            raise RuntimeError(f"sandbox exited:\n{log.read_text()}") from None
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def stdio_servers(api_key: str, base_url: str, log: Path) -> Generator[tuple[StdioSession, StdioSession]]:
    """mcp-anyreach in real-API mode pointed at the sandbox, and the bare server; both initialized."""
    env = server_env(ANYREACH_TOKEN=api_key, ANYREACH_BASE_URL=base_url)
    with log.open("wb") as sink:
        server = StdioSession(SERVER_COMMAND, env, sink)
        bare = StdioSession(BARE_COMMAND, server_env(), sink)
        try:
            server.initialize()
            bare.initialize()
            yield server, bare
        finally:
            server.close()
            bare.close()


async def main(calls: int) -> bool:
    print(f"{machine()}; {calls:,} interleaved calls of each\n")
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch, "sandbox.db")
        api_key = prepare_db(db)
        with port_sandbox(db, Path(scratch, "sandbox.log")) as port:
            base_url = f"http://127.0.0.1:{port}"
            with stdio_servers(api_key, base_url, Path(scratch, "servers.log")) as (server, bare):
                headers = {"Authorization": f"Bearer {api_key}"}
                async with httpx2.AsyncClient(base_url=base_url, headers=headers) as http:
                    timings = await measure(calls, server, bare, http)
    return report(timings)


async def measure(
    calls: int, server: StdioSession, bare: StdioSession, http: httpx2.AsyncClient
) -> dict[str, list[float]]:
    async def direct() -> None:
        response = await http.get("/core/phone-numbers", params={"limit": LIMIT})
        response.raise_for_status()
        assert len(response.json()) == LIMIT

    def call() -> None:
        result = server.call_tool("list_phone_numbers", {"limit": LIMIT})
        assert len(result["structuredContent"]["items"]) == LIMIT

    def floor() -> None:
        bare.call_tool("echo", {"text": "ping"})

    def refused() -> None:
        result = server.request("tools/call", {"name": "list_phone_numbers", "arguments": {"limit": 0}})
        assert result.get("isError"), result

    timed: dict[str, Callable[[], Any]] = {"call": call, "floor": floor, "refused": refused}
    timings: dict[str, list[float]] = {name: [] for name in ("direct", *timed)}
    for round_number in range(WARMUP + calls):
        started = time.perf_counter()
        await direct()
        elapsed = {"direct": time.perf_counter() - started}
        for name, run in timed.items():
            started = time.perf_counter()
            run()
            elapsed[name] = time.perf_counter() - started
        if round_number >= WARMUP:
            for name, seconds in elapsed.items():
                timings[name].append(seconds)
    return timings


def report(timings: dict[str, list[float]]) -> bool:
    call, direct, floor = (median_ms(timings[name]) for name in ("call", "direct", "floor"))
    print(f"list_phone_numbers over stdio   {call:7.2f} ms")
    print(f"(a) same page, httpx2 direct    {direct:7.2f} ms")
    print(f"(b) bare server echo over stdio {floor:7.2f} ms   (protocol floor; mcp-anyreach has no API-free tool)")
    print(
        f"(c) same server, refused call   {median_ms(timings['refused']):7.2f} ms   (information: limit=0, no API call)"
    )
    ratio = call / (direct + floor)
    state = "ok" if ratio < MAX_RATIO else "MISSED"
    print(f"ratio call / (a + b)            {ratio:7.2f}    target < {MAX_RATIO}: {state}")
    print(f"server's own cost, call - a - b {call - direct - floor:7.2f} ms")
    return ratio < MAX_RATIO


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000)
    arguments = parser.parse_args()
    anyio.run(main, arguments.calls)
