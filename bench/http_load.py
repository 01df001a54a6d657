"""HTTP load: 50 concurrent MCP SDK clients doing mixed reads against one streamable-HTTP server on loopback.

Each client opens its own session and loops over tools/list, list_phone_numbers, get_trunk and a read of
anyreach://inventory until the time is up. Reports p50/p99 latency, requests/s, errors, and the server's
resident memory (VmRSS from /proc) at the start, the middle and the end.
Targets: no error at all, and the server's resident memory at the end within 1.25x of the start (stable).

Run: python bench/http_load.py [--clients 50] [--duration 30] [--stateless] [--url URL --pid PID] [--quick]
Without --url it starts `python -m mcp_anyreach serve --transport streamable-http --db :memory: --port 0` itself.
tests/reliability/test_http_transport.py imports `run_load` (with a fixed number of operations per client,
no time window): this module must not need bench/ on the import path.
"""

from __future__ import annotations

import itertools
import math
import os
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

if TYPE_CHECKING:
    from _common import Figures

STARTUP_TIMEOUT = 60.0
MAX_RSS_GROWTH = 1.25
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


async def run_load(
    url: str,
    *,
    clients: int = 50,
    duration: float | None = 30.0,
    per_client: int | None = None,
    pid: int | None = None,
) -> LoadReport:
    """`clients` SDK sessions doing mixed reads against `url`, once all are connected, until `duration` seconds
    have passed (None: no time limit) or each has made `per_client` requests (None: no count limit)."""
    assert duration is not None or per_client is not None, "give a duration or a count, or it never ends"
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
            span = math.inf if duration is None else duration
            window["middle"], window["end"] = window["start"] + span / 2, window["start"] + span
            go.set()

    async def one_client(offset: int) -> None:
        try:
            async with (
                httpx2.AsyncClient(verify=tls, timeout=HTTP_TIMEOUT, follow_redirects=True) as http,
                Client(streamable_http_client(url, http_client=http), cache=None) as client,  # type: ignore[arg-type]
            ):
                ready()
                await go.wait()
                last = None if per_client is None else offset + per_client
                for operation in itertools.islice(itertools.cycle(operations), offset, last):
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
    """A streamable-HTTP server on the embedded sandbox, on a port it picks; yields (url, pid)."""
    from _common import SERVER_COMMAND, start_listening, stop

    command = [*SERVER_COMMAND, "serve", "--transport", "streamable-http", "--db", ":memory:", "--port", "0"]
    with tempfile.TemporaryDirectory() as scratch:
        process, url = start_listening([*command, *flags], Path(scratch, "server.log"), timeout=STARTUP_TIMEOUT)
        try:
            yield url, process.pid
        finally:
            stop(process)


def record(report: LoadReport, figures: Figures) -> None:
    print(report.summary())
    for error in report.errors[:10]:
        print(f"  {error}", file=sys.stderr)
    load = f"{report.clients} SDK clients, {report.duration:.0f} s of mixed reads"
    figures.add(
        f"HTTP, {load}: errors",
        len(report.errors),
        f"{len(report.errors)} of {report.requests:,}",
        "0",
        not report.errors,
    )
    if "start" in report.rss_kib:
        start, end = report.rss_kib["start"], report.rss_kib["end"]
        figures.add(
            "HTTP load: server RSS end / start",
            end / start,
            f"{end / start:.2f}x ({start / 1024:.0f} → {end / 1024:.0f} MiB)",
            f"≤ {MAX_RSS_GROWTH}x",
            end <= MAX_RSS_GROWTH * start,
        )
    figures.add(
        "HTTP load: requests/s (information)",
        report.requests / report.duration,
        f"{report.requests / report.duration:.0f}",
    )
    figures.add(
        "HTTP load: p50 / p99 latency (information)",
        report.percentile(50),
        f"{report.percentile(50):.0f} / {report.percentile(99):.0f} ms",
    )


if __name__ == "__main__":
    from _common import arguments, run

    parser = arguments((__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds (default 30; --quick: 2)")
    parser.add_argument("--stateless", action="store_true", help="start the server with --stateless")
    parser.add_argument("--url", help="an already running server's /mcp URL (then --pid for its memory)")
    parser.add_argument("--pid", type=int, help="the process id of the server at --url")
    parsed = parser.parse_args()
    duration = 2.0 if parsed.quick else parsed.duration

    def load(url: str, pid: int | None) -> LoadReport:
        return anyio.run(lambda: run_load(url, clients=parsed.clients, duration=duration, pid=pid))

    def measure(figures: Figures) -> None:
        if parsed.url:
            record(load(parsed.url, parsed.pid), figures)
        else:
            with local_server(*(["--stateless"] if parsed.stateless else [])) as (url, pid):
                record(load(url, pid), figures)

    run("http_load.py", parsed, measure)
