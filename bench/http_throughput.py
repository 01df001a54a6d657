"""Throughput of the MCP layer over stateless streamable HTTP, against calling the API directly.

Starts the sandbox API on its own (`mcp-anyreach sandbox`) and a stateless streamable-HTTP server with JSON
responses that talks to it over HTTP, as to the real API. Then, for 1, 10 and 50 concurrent clients, it
calls `list_phone_numbers` through the server (one self-contained POST per call, protocol 2026-07-28) and
`GET /core/phone-numbers` on the sandbox directly, each for `--duration` seconds. Reports calls/s, p50 and
p99 latency, the MCP layer's share of the direct API's throughput, and the CPU of the load generator and of
both servers (all share the machine's cores, so a busy load generator or sandbox lowers every figure).

Run: python bench/http_throughput.py [--duration 3] [--clients 1,10,50] [--limit 10]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx2
from _common import free_port, machine, server_env, wait_listening

MODERN = "2026-07-28"
SERVER = """
import sys, anyio, uvicorn
from mcp_anyreach.server import build_server
from mcp_anyreach.server.backend import connect
from mcp_anyreach.server.http import transport_security
from mcp_anyreach.settings import Settings

async def main(port):
    settings = Settings(transport="streamable-http", stateless=True, port=port)
    async with connect(settings) as api:
        server = build_server(settings, api)
        app = server.streamable_http_app(
            stateless_http=True, json_response=True, transport_security=transport_security(settings)
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        await uvicorn.Server(config).serve()

anyio.run(main, int(sys.argv[1]))
"""
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
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(cell: Cell, call: Call, duration: float, servers: dict[str, int]) -> Cell:
    limits = httpx2.Limits(max_connections=cell.clients, max_keepalive_connections=cell.clients)
    async with httpx2.AsyncClient(limits=limits, timeout=30.0) as http:
        warm_until = time.perf_counter() + 0.5
        while time.perf_counter() < warm_until:
            await call(http)
        cpu_before = {name: cpu_seconds(pid) for name, pid in servers.items()}
        own_before = time.process_time()
        started = time.perf_counter()
        deadline = started + duration

        async def client() -> None:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                ok = await call(http)
                if ok:
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


def direct_call(base_url: str, token: str, limit: int) -> Call:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def call(http: httpx2.AsyncClient) -> bool:
        response = await http.get(f"{base_url}/core/phone-numbers", params={"limit": limit}, headers=headers)
        return response.status_code == 200

    return call


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
        result = response.json().get("result") or {}
        return not result.get("isError") and bool(result.get("structuredContent", {}).get("items"))

    return call


def start_sandbox(log: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """`mcp-anyreach sandbox` on a free port; its base URL and the demo organization's API key."""
    port = free_port()
    command = [sys.executable, "-m", "mcp_anyreach", "sandbox", "--db", ":memory:", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=server_env())
    wait_listening(process, port)
    found = re.search(r"export ANYREACH_BASE_URL=(\S+) ANYREACH_TOKEN=(\S+)", log.read_text())
    if found is None:
        raise RuntimeError(f"no credentials in the sandbox's output:\n{log.read_text()}")
    return process, found.group(1), found.group(2)


def start_server(log: Path, base_url: str, token: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = server_env(ANYREACH_TOKEN=token, ANYREACH_BASE_URL=base_url)
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdout=sink, stderr=sink, env=env)
    wait_listening(process, port)
    return process, f"http://127.0.0.1:{port}/mcp"


def report(cells: list[Cell]) -> None:
    print(f"# HTTP throughput: list_phone_numbers, stateless streamable HTTP, JSON responses ({machine()})")
    print("# A shared, noisy machine: the load generator and both servers compete for the same cores.")
    print("| clients | target | calls/s | p50 ms | p99 ms | errors | load gen CPU | MCP server CPU | sandbox CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for cell in cells:
        cpu = cell.server_cpu
        print(
            f"| {cell.clients} | {cell.target} | {cell.rate:.0f} | {cell.percentile_ms(50):.1f} | "
            f"{cell.percentile_ms(99):.1f} | {cell.errors} | {cell.generator_cpu:.0%} | "
            f"{cpu.get('mcp', 0.0):.0%} | {cpu.get('sandbox', 0.0):.0%} |"
        )
    print()
    for clients in sorted({cell.clients for cell in cells}):
        direct = next(c for c in cells if c.clients == clients and c.target == "direct API")
        through = next(c for c in cells if c.clients == clients and c.target == "MCP server")
        print(f"{clients} clients: the MCP layer keeps {through.rate / direct.rate:.0%} of the direct API's calls/s")


async def run(duration: float, levels: list[int], limit: int) -> None:
    logs = Path(tempfile.mkdtemp(prefix="http-throughput-"))
    sandbox, base_url, token = start_sandbox(logs / "sandbox.log")
    server: subprocess.Popen[bytes] | None = None
    try:
        server, url = start_server(logs / "server.log", base_url, token)
        pids = {"sandbox": sandbox.pid, "mcp": server.pid}
        cells: list[Cell] = []
        for clients in levels:
            cells.append(
                await measure(Cell("direct API", clients), direct_call(base_url, token, limit), duration, pids)
            )
            cells.append(await measure(Cell("MCP server", clients), mcp_call(url, limit), duration, pids))
        report(cells)
    finally:
        for process in (server, sandbox):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement (default 3)")
    parser.add_argument("--clients", default="1,10,50", help="concurrency levels (default 1,10,50)")
    parser.add_argument("--limit", type=int, default=10, help="numbers per page (default 10)")
    args = parser.parse_args()
    anyio.run(run, args.duration, [int(level) for level in args.clients.split(",")], args.limit)


if __name__ == "__main__":
    main()
