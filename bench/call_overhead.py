"""Time per tool call: `list_phone_numbers` (limit 50) over stdio against a sandbox on a loopback port.

Beside it, in the same interleaved loop (the order rotates round by round):
  (a) direct   the same page fetched from the same sandbox with an httpx2.AsyncClient (GET + .json())
  (b) floor    a trivial tool call over stdio. mcp-anyreach has no tool that skips the API, so the floor is
               bench/bare_server.py's `echo` tool: the SDK's own stdio round trip.
and, for information only, (c) list_phone_numbers with limit=0 on the same server: refused by argument
validation, so no API call, but the same process, dispatch and error path.
The sandbox is `mcp-anyreach sandbox --port 0` in its own process on a file database pre-filled to 100
numbers, so every page holds 50. The ratio is call / (a + b). Target: under 1.25.

Run: python bench/call_overhead.py [--calls N] [--quick]
--quick: 20 calls.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx2
from _common import (
    BARE_COMMAND,
    SERVER_COMMAND,
    Figures,
    StdioSession,
    arguments,
    median_ms,
    run,
    server_env,
    start_listening,
    stop,
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
def port_sandbox(db: Path, log: Path) -> Generator[str]:
    """`mcp-anyreach sandbox` on `db`, on a port it picks; yields its base URL."""
    process, base_url = start_listening([*SERVER_COMMAND, "sandbox", "--port", "0", "--db", str(db)], log)
    try:
        yield base_url
    finally:
        stop(process)


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


async def main(calls: int, figures: Figures) -> None:
    print(f"{calls:,} interleaved calls of each\n")
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch, "sandbox.db")
        api_key = prepare_db(db)
        with (
            port_sandbox(db, Path(scratch, "sandbox.log")) as base_url,
            stdio_servers(api_key, base_url, Path(scratch, "servers.log")) as (server, bare),
        ):
            headers = {"Authorization": f"Bearer {api_key}"}
            async with httpx2.AsyncClient(base_url=base_url, headers=headers) as http:
                timings = await measure(calls, server, bare, http)
    report(timings, figures)


async def measure(
    calls: int, server: StdioSession, bare: StdioSession, http: httpx2.AsyncClient
) -> dict[str, list[float]]:
    async def direct() -> None:
        response = await http.get("/core/phone-numbers", params={"limit": LIMIT})
        response.raise_for_status()
        assert len(response.json()) == LIMIT

    async def call() -> None:
        result = server.call_tool("list_phone_numbers", {"limit": LIMIT})
        assert len(result["structuredContent"]["items"]) == LIMIT

    async def floor() -> None:
        bare.call_tool("echo", {"text": "ping"})

    async def refused() -> None:
        result = server.request("tools/call", {"name": "list_phone_numbers", "arguments": {"limit": 0}})
        assert result.get("isError"), result

    steps: dict[str, Callable[[], Awaitable[None]]] = {
        "direct": direct,
        "call": call,
        "floor": floor,
        "refused": refused,
    }
    names = list(steps)
    timings: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(WARMUP + calls):
        shift = round_number % len(names)  # each goes first in turn, so none gains or loses from its place
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            await steps[name]()
            if round_number >= WARMUP:
                timings[name].append(time.perf_counter() - started)
    return timings


def report(timings: dict[str, list[float]], figures: Figures) -> None:
    call, direct, floor, refused = (median_ms(timings[name]) for name in ("call", "direct", "floor", "refused"))
    print(f"list_phone_numbers over stdio   {call:7.2f} ms")
    print(f"(a) same page, httpx2 direct    {direct:7.2f} ms")
    print(f"(b) bare server echo over stdio {floor:7.2f} ms   (protocol floor; mcp-anyreach has no API-free tool)")
    print(f"(c) same server, refused call   {refused:7.2f} ms   (information: limit=0, no API call)")
    ratio = call / (direct + floor)
    figures.add(
        "list_phone_numbers call / (direct + floor)",
        ratio,
        f"{ratio:.2f} ({call:.2f} / ({direct:.2f} + {floor:.2f}) ms)",
        f"< {MAX_RATIO}",
        ratio < MAX_RATIO,
    )
    figures.add(
        "server's own cost per call, call - direct - floor", call - direct - floor, f"{call - direct - floor:.2f} ms"
    )
    figures.add("refused call (limit=0, no API call)", refused, f"{refused:.2f} ms")


if __name__ == "__main__":
    parser = arguments(__doc__)
    parser.add_argument("--calls", type=int, default=1_000, help="timed rounds, after 30 untimed (default 1,000)")
    parsed = parser.parse_args()
    run("call_overhead.py", parsed, lambda figures: anyio.run(main, 20 if parsed.quick else parsed.calls, figures))
