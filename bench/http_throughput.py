"""Throughput of the MCP layer over stateless streamable HTTP, against calling the API directly.

Starts the sandbox API on its own (`mcp-anyreach sandbox --port 0`) and `mcp-anyreach serve --transport
streamable-http --stateless --port 0` talking to it over HTTP, as to the real API; both are reached at the URL
they log. Then, for each number of concurrent clients, it calls `list_phone_numbers` through the server (one
self-contained POST per call, protocol 2026-07-28) and `GET /core/phone-numbers` on the sandbox directly, each
for `--duration` seconds after half a second of warm-up. Reports calls/s, p50 and p99 latency, errors, and the
CPU of the load generator and of both servers (all share the machine's cores, so a busy load generator or
sandbox lowers every figure).
Target: at 10 clients the MCP layer keeps at least 0.5x the direct API's calls/s.

Run: python bench/http_throughput.py [--duration 3] [--clients 1,10,50] [--limit 10] [--quick]
--quick: 10 clients only, 1 second each.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from _common import SERVER_COMMAND, Figures, arguments, run, server_env, start_listening, stop

MODERN = "2026-07-28"
TARGET_CLIENTS = 10
MIN_SHARE = 0.5
WARMUP = 0.5
CREDENTIALS = re.compile(r"export ANYREACH_BASE_URL=(\S+) ANYREACH_TOKEN=(\S+) ANYREACH_ORG_ID=(\S+)")
Call = Callable[[httpx2.AsyncClient], Awaitable[bool]]


@dataclass
class Cell:
    target: str
    clients: int
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list[float])
    errors: int = 0
    generator_cpu: float = 0.0
    server_cpu: dict[str, float] = field(default_factory=dict[str, float])

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile_ms(self, q: int) -> float:
        if len(self.latencies) < 2:
            return 1000 * (self.latencies[0] if self.latencies else 0.0)
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(cell: Cell, call: Call, duration: float, servers: dict[str, int]) -> Cell:
    limits = httpx2.Limits(max_connections=cell.clients, max_keepalive_connections=cell.clients)
    async with httpx2.AsyncClient(limits=limits, timeout=30.0) as http:
        warm_until = time.perf_counter() + WARMUP
        while time.perf_counter() < warm_until:
            if not await call(http):
                raise RuntimeError(f"a warm-up call to the {cell.target} failed")
        cpu_before = {name: cpu_seconds(pid) for name, pid in servers.items()}
        own_before = time.process_time()
        started = time.perf_counter()
        deadline = started + duration

        async def client() -> None:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                if await call(http):
                    cell.latencies.append(time.perf_counter() - sent)
                else:
                    cell.errors += 1

        async with anyio.create_task_group() as group:
            for _ in range(cell.clients):
                group.start_soon(client)
        cell.elapsed = time.perf_counter() - started
        cell.generator_cpu = (time.process_time() - own_before) / cell.elapsed
        cell.server_cpu = {name: (cpu_seconds(pid) - cpu_before[name]) / cell.elapsed for name, pid in servers.items()}
    return cell


def direct_call(base_url: str, token: str, org_id: str, limit: int) -> Call:
    headers = {"Authorization": f"Bearer {token}", "X-Anyreach-Org": org_id, "Accept": "application/json"}

    async def call(http: httpx2.AsyncClient) -> bool:
        response = await http.get(f"{base_url}/core/phone-numbers", params={"limit": limit}, headers=headers)
        return response.status_code == 200

    return call


def json_rpc_answer(response: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC message of a JSON response, or of the last `data:` line of an event stream."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        return json.loads(data[-1]) if data else {}
    return response.json()


def mcp_call(url: str, limit: int) -> Call:
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": "list_phone_numbers",
    }
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "http_throughput", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "list_phone_numbers", "arguments": {"limit": limit}, "_meta": meta},
    }

    async def call(http: httpx2.AsyncClient) -> bool:
        response = await http.post(url, json=body, headers=headers)
        if response.status_code != 200:
            return False
        result: dict[str, Any] = json_rpc_answer(response).get("result") or {}
        content: dict[str, Any] = result.get("structuredContent") or {}
        return not result.get("isError") and bool(content.get("items"))

    return call


@contextmanager
def servers(logs: Path) -> Generator[tuple[str, str, str, str, dict[str, int]]]:
    """The sandbox and an MCP server on it: the sandbox's base URL, key and organization, the /mcp URL, pids."""
    sandbox, base_url = start_listening(
        [*SERVER_COMMAND, "sandbox", "--db", ":memory:", "--port", "0"], logs / "sandbox.log"
    )
    server = None
    try:
        deadline = time.monotonic() + 10
        while not (found := CREDENTIALS.search((logs / "sandbox.log").read_text(errors="replace"))):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no credentials in the sandbox's output:\n{(logs / 'sandbox.log').read_text()}")
            time.sleep(0.05)
        _, token, org_id = found.groups()
        env = server_env(ANYREACH_BASE_URL=base_url, ANYREACH_TOKEN=token, ANYREACH_ORG_ID=org_id)
        command = [*SERVER_COMMAND, "serve", "--transport", "streamable-http", "--stateless", "--port", "0"]
        server, url = start_listening(command, logs / "server.log", env=env)
        yield base_url, token, org_id, url, {"sandbox": sandbox.pid, "mcp": server.pid}
    finally:
        for process in (server, sandbox):
            if process is not None:
                stop(process)


def report(cells: list[Cell], figures: Figures) -> None:
    print("| clients | target | calls/s | p50 ms | p99 ms | errors | load gen CPU | MCP server CPU | sandbox CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for cell in cells:
        cpu = cell.server_cpu
        print(
            f"| {cell.clients} | {cell.target} | {cell.rate:.0f} | {cell.percentile_ms(50):.1f} | "
            f"{cell.percentile_ms(99):.1f} | {cell.errors} | {cell.generator_cpu:.0%} | "
            f"{cpu.get('mcp', 0.0):.0%} | {cpu.get('sandbox', 0.0):.0%} |"
        )
    for clients in sorted({cell.clients for cell in cells}):
        direct = next(c for c in cells if c.clients == clients and c.target == "direct API")
        through = next(c for c in cells if c.clients == clients and c.target == "MCP server")
        share = through.rate / direct.rate
        shown = f"{share:.2f}x ({through.rate:.0f} vs {direct.rate:.0f} calls/s)"
        name = f"HTTP, {clients} clients: MCP / direct API calls/s"
        if clients == TARGET_CLIENTS:
            figures.add(name, share, shown, f">= {MIN_SHARE}x", share >= MIN_SHARE)
        else:
            figures.add(f"{name} (information)", share, shown)
        figures.add(
            f"HTTP, {clients} clients: MCP p50 / p99 ms (information)",
            through.percentile_ms(50),
            f"{through.percentile_ms(50):.0f} / {through.percentile_ms(99):.0f}",
        )
        errors = direct.errors + through.errors
        figures.add(f"HTTP, {clients} clients, list_phone_numbers: errors", errors, str(errors), "0", errors == 0)


async def main(duration: float, levels: list[int], limit: int, figures: Figures) -> None:
    with tempfile.TemporaryDirectory() as scratch, servers(Path(scratch)) as (base_url, token, org_id, url, pids):
        cells: list[Cell] = []
        for clients in levels:
            direct = direct_call(base_url, token, org_id, limit)
            cells.append(await measure(Cell("direct API", clients), direct, duration, pids))
            cells.append(await measure(Cell("MCP server", clients), mcp_call(url, limit), duration, pids))
        report(cells, figures)


if __name__ == "__main__":
    parser = arguments(__doc__)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement (default 3)")
    parser.add_argument("--clients", default="1,10,50", help="concurrency levels (default 1,10,50)")
    parser.add_argument("--limit", type=int, default=10, help="numbers per page (default 10)")
    parsed = parser.parse_args()
    duration = 1.0 if parsed.quick else parsed.duration
    levels = [TARGET_CLIENTS] if parsed.quick else [int(level) for level in parsed.clients.split(",")]
    run("http_throughput.py", parsed, lambda figures: anyio.run(main, duration, levels, parsed.limit, figures))
