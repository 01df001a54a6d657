"""What the benchmarks share: a raw JSON-RPC stdio client, server commands and environments, medians, the machine.

The stdio client is a subprocess with pipes and `json` only, so that the client's own imports and event
loop add nothing to what is timed. It speaks the legacy era (protocol 2025-11-25), which every server answers.
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

BENCH = Path(__file__).resolve().parent
SERVER_COMMAND = (sys.executable, "-m", "mcp_anyreach")
BARE_COMMAND = (sys.executable, str(BENCH / "bare_server.py"))
PROTOCOL_VERSION = "2025-11-25"


def server_env(**extra: str) -> dict[str, str]:
    """This environment without any Anyreach credential or server setting, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ANYREACH_", "MCP_ANYREACH_"))}
    return env | {"PYTHONUNBUFFERED": "1"} | extra


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(process: subprocess.Popen[bytes], port: int, *, timeout: float = 60.0) -> None:
    """Until something accepts on the loopback `port`; raise if `process` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class StdioSession:
    """One server process over stdin/stdout, one request at a time; its stderr goes to `log`."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str], log: IO[bytes]) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=dict(env)
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._stdin = self.process.stdin
        self._stdout = self.process.stdout
        self._next_id = 0

    def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        self._send({"jsonrpc": "2.0", "method": method, **({"params": params} if params is not None else {})})

    def request(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send a request and return its `result`; notifications in between are skipped, errors raise."""
        self._next_id += 1
        request_id = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        while True:
            line = self._stdout.readline()
            if not line:
                raise RuntimeError(f"server exited ({self.process.poll()}) before answering {method}")
            reply = json.loads(line)
            if reply.get("id") != request_id:
                continue
            if "error" in reply:
                raise RuntimeError(f"{method} failed: {reply['error']}")
            return reply["result"]

    def initialize(self) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "0"},
            },
        )
        self.notify("notifications/initialized")
        return result

    def call_tool(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            raise RuntimeError(f"{name} returned an error: {result.get('content')}")
        return result

    def close(self) -> None:
        """Close stdin (the stdio way to say goodbye); terminate, then kill, if the server lingers."""
        self._stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stdout.close()

    def _send(self, message: Mapping[str, Any]) -> None:
        self._stdin.write(json.dumps(message).encode() + b"\n")
        self._stdin.flush()


def median_ms(seconds: Sequence[float]) -> float:
    return statistics.median(seconds) * 1000


def machine() -> str:
    """`nproc`, the CPU model and the Python version, for the figures' provenance."""
    model = platform.processor() or "unknown CPU"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        model = found.group(1).strip() if found else model
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0))
    return f"{cpus} CPUs (nproc), {model}, Python {platform.python_version()}, {platform.system()}, tree {tree()}"


def tree() -> str:
    """The commit measured, and whether the working tree differed from it (the figures are of the tree)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BENCH, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=BENCH, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' + uncommitted changes' if changed else ''}"
