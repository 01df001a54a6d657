"""HTTP load: 50 concurrent MCP SDK clients doing mixed reads against one streamable-HTTP server on loopback.

Each client opens its own session and loops over tools/list, list_phone_numbers, get_trunk and a read of
anyreach://inventory until the time is up. Reports p50/p99 latency, requests/s, errors, and the server's
resident memory (VmRSS from /proc) at the start, the middle and the end.

Run: python bench/http_load.py [--clients 50] [--duration 30] [--stateless] [--url URL --pid PID]
Without --url it starts `python -m mcp_anyreach serve --transport streamable-http --db :memory:` itself.
"""

from __future__ import annotations

import argparse
import itertools
import os
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

STARTUP_TIMEOUT = 60.0
HTTP_TIMEOUT = httpx2.Timeout(30.0, read=300.0)
Operation = Callable[[Client], Awaitable[bool]]


@dataclass
class LoadReport:
    clients: int
    duration: float = 0.0
    latencies: list[float] = field(default_factory=list[float])
    errors: list[str] = field(default_factory=list[str])
    rss_kib: dict[str, int] = field(default_factory=dict[str, int])
    server_cpu: float | None = None

    @property
    def requests(self) -> int:
        return len(self.latencies) + len(self.errors)

    def percentile(self, q: int) -> float:
        """The q-th percentile latency in milliseconds."""
        if len(self.latencies) < 2:
            return 1000 * (self.latencies[0] if self.latencies else 0.0)
        return 1000 * statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]

    def summary(self) -> str:
        rss = ", ".join(f"{when} {kib / 1024:.1f} MiB" for when, kib in self.rss_kib.items()) or "not measured"
        return (
            f"{self.clients} clients, {self.duration:.1f} s: {self.requests} requests, "
            f"{self.requests / self.duration:.0f} req/s, p50 {self.percentile(50):.1f} ms, "
            f"p99 {self.percentile(99):.1f} ms, errors {len(self.errors)}; server RSS {rss}"
            + ("" if self.server_cpu is None else f"; server CPU {self.server_cpu:.1f} s")
        )


def rss_kib(pid: int) -> int:
    """Resident set size of `pid` in KiB, from /proc (psutil is not needed)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time `pid` has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mixed_reads(trunk_id: str) -> list[Operation]:
    async def list_tools(client: Client) -> bool:
        return bool((await client.list_tools()).tools)

    async def list_numbers(client: Client) -> bool:
        return not (await client.call_tool("list_phone_numbers", {"limit": 10})).is_error

    async def get_trunk(client: Client) -> bool:
        return not (await client.call_tool("get_trunk", {"trunk_id": trunk_id})).is_error

    async def read_inventory(client: Client) -> bool:
        return bool((await client.read_resource("anyreach://inventory")).contents)

    return [list_tools, list_numbers, get_trunk, read_inventory]


async def a_trunk_id(url: str) -> str:
    async with Client(url) as client:
        listing = await client.call_tool("list_trunks", {"limit": 1})
    assert listing.structured_content is not None
    return str(listing.structured_content["items"][0]["id"])


async def run_load(url: str, *, clients: int = 50, duration: float = 30.0, pid: int | None = None) -> LoadReport:
    """`clients` SDK sessions doing mixed reads against `url` for `duration` seconds, once all are connected."""
    report = LoadReport(clients=clients)
    operations = mixed_reads(await a_trunk_id(url))
    tls = ssl.create_default_context()  # one for all: building one per HTTP client costs ~0.1 s of CPU each
    connected, go = 0, anyio.Event()
    window: dict[str, float] = {}

    def ready() -> None:
        nonlocal connected
        connected += 1
        if connected == clients:
            if pid is not None:
                report.rss_kib["start"] = rss_kib(pid)
                report.server_cpu = -cpu_seconds(pid)
            window["start"] = time.perf_counter()
            window["middle"], window["end"] = window["start"] + duration / 2, window["start"] + duration
            go.set()

    async def one_client(offset: int) -> None:
        try:
            async with (
                httpx2.AsyncClient(verify=tls, timeout=HTTP_TIMEOUT, follow_redirects=True) as http,
                Client(streamable_http_client(url, http_client=http), cache=None) as client,  # type: ignore[arg-type]
            ):
                ready()
                await go.wait()
                for operation in itertools.islice(itertools.cycle(operations), offset, None):
                    now = time.perf_counter()
                    if now >= window["end"]:
                        return
                    if pid is not None and now >= window["middle"] and "middle" not in report.rss_kib:
                        report.rss_kib["middle"] = rss_kib(pid)
                    try:
                        ok = await operation(client)
                    except Exception as exc:
                        report.errors.append(f"{operation.__name__}: {exc!r}")
                        continue
                    if ok:
                        report.latencies.append(time.perf_counter() - now)
                    else:
                        report.errors.append(f"{operation.__name__}: error result")
        except Exception as exc:
            report.errors.append(f"session: {exc!r}")
            if not go.is_set():
                ready()

    async with anyio.create_task_group() as group:
        for index in range(clients):
            group.start_soon(one_client, index)
    report.duration = time.perf_counter() - window["start"]
    if pid is not None:
        report.rss_kib["end"] = rss_kib(pid)
        report.server_cpu = (report.server_cpu or 0.0) + cpu_seconds(pid)
    return report


@contextmanager
def local_server(*flags: str) -> Generator[tuple[str, int]]:
    """A streamable-HTTP server on the embedded sandbox, on a free loopback port; yields (url, pid)."""
    # Only the script needs this: the tests import run_load as bench.http_load, without bench/ on the path.
    from _common import SERVER_COMMAND, free_port, server_env, wait_listening

    port = free_port()
    command = [*SERVER_COMMAND, "serve", "--transport", "streamable-http", "--db", ":memory:", "--port", str(port)]
    process = subprocess.Popen(
        [*command, *flags], env=server_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    try:
        wait_listening(process, port, timeout=STARTUP_TIMEOUT)
        yield f"http://127.0.0.1:{port}/mcp", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--stateless", action="store_true", help="start the server with --stateless")
    parser.add_argument("--url", help="an already running server's /mcp URL (then --pid for its memory)")
    parser.add_argument("--pid", type=int, help="the process id of the server at --url")
    args = parser.parse_args(argv)

    def run(url: str, pid: int | None) -> LoadReport:
        return anyio.run(lambda: run_load(url, clients=args.clients, duration=args.duration, pid=pid))

    if args.url:
        report = run(args.url, args.pid)
    else:
        with local_server(*(["--stateless"] if args.stateless else [])) as (url, pid):
            report = run(url, pid)
    print(report.summary())
    for error in report.errors[:10]:
        print(f"  {error}", file=sys.stderr)
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
