"""What the benchmarks share: a raw JSON-RPC stdio client, server commands and environments, medians, the machine
and tree measured, and one way to report figures against targets and exit (0 met, 1 missed, 2 broken).

The stdio client is a subprocess with pipes and `json` only, so that the client's own imports and event
loop add nothing to what is timed. It speaks the legacy era (protocol 2025-11-25), which every server answers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

BENCH = Path(__file__).resolve().parent
SERVER_COMMAND = (sys.executable, "-m", "mcp_anyreach")
BARE_COMMAND = (sys.executable, str(BENCH / "bare_server.py"))
PROTOCOL_VERSION = "2025-11-25"


def server_env(**extra: str) -> dict[str, str]:
    """This environment without any Anyreach credential or server setting, plus `extra`.

    Without PYTHONDONTWRITEBYTECODE too: an installed package has its bytecode (pip writes it), and a server
    that recompiled every module edited since its `__pycache__` was written would time the compiler.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ANYREACH_", "MCP_ANYREACH_")) and name != "PYTHONDONTWRITEBYTECODE"
    }
    return env | {"PYTHONUNBUFFERED": "1"} | extra


LISTENING_LINE = re.compile(r"(?:serving \S+|Anyreach sandbox listening) on (http://\S+)")


def start_listening(
    command: Sequence[str], log: Path, *, env: Mapping[str, str] | None = None, timeout: float = 60.0
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `command` (an HTTP server given `--port 0`), its output into `log`; once it logs the URL it bound,
    return the process and that URL. Raise with its output if it exits first or time runs out."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=dict(env or server_env()),
        )
    deadline = time.monotonic() + timeout
    while True:
        found = LISTENING_LINE.search(log.read_text(errors="replace"))
        if found:
            return process, found.group(1)
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"{' '.join(command)} did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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


# Provenance: every script prints it first, and run_all.py puts it at the head of the table.


def machine() -> str:
    """`nproc`, the CPU model, the Python version and the system."""
    model = platform.processor() or "unknown CPU"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        model = found.group(1).strip() if found else model
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0))
    return f"{cpus} CPUs (nproc), {model}, Python {platform.python_version()}, {platform.system()}"


def tree() -> str:
    """The commit measured, and whether the working tree differed from it (the figures are of the tree)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BENCH, capture_output=True, text=True, check=True
        ).stdout.strip()
        # The table run_all.py writes into bench/README.md is not part of what is measured.
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)", ":(top,exclude)bench/README.md"],
            cwd=BENCH,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' + uncommitted changes' if changed else ''}"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def provenance() -> str:
    return f"machine: {machine()}\ntree: {tree()}\ndate: {now_utc()}\nload average: {load_average()}"


# Figures, targets and the exit code, the same for every script.

EXIT_MET, EXIT_MISSED, EXIT_BROKEN = 0, 1, 2


@dataclass(frozen=True)
class Figure:
    name: str
    value: float  # what run_all.py compares between passes
    shown: str  # the value as a reader should see it, with its parts
    target: str = ""  # empty: for information
    met: bool | None = None  # None: for information


@dataclass
class Figures:
    """What one benchmark run measured; `finish` prints the verdict, writes --json and exits accordingly."""

    script: str
    json_path: Path | None = None
    figures: list[Figure] = field(default_factory=list[Figure])

    def add(self, name: str, value: float, shown: str, target: str = "", met: bool | None = None) -> None:
        self.figures.append(Figure(name, value, shown, target, met))

    @property
    def met(self) -> bool:
        return all(figure.met is not False for figure in self.figures)

    def finish(self) -> NoReturn:
        print(f"\n{'figure':<58} {'measured':<44} {'target':<14} state")
        for figure in self.figures:
            state = "" if figure.met is None else "ok" if figure.met else "MISSED"
            print(f"{figure.name:<58} {figure.shown:<44} {figure.target:<14} {state}".rstrip())
        verdict = "every target met" if self.met else "a target was MISSED"
        print(f"\n{self.script}: {verdict} (load average now {load_average()})")
        if self.json_path is not None:
            self.json_path.write_text(json.dumps([asdict(figure) for figure in self.figures], indent=1))
        raise SystemExit(EXIT_MET if self.met else EXIT_MISSED)


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """A parser with the flags every script takes; the script adds its own."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few rounds: checks the script works, figures are rough")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (run_all.py reads it)")
    return parser


def run(script: str, parsed: argparse.Namespace, measure: Callable[[Figures], None]) -> NoReturn:
    """Print the provenance, measure, then exit 0 (every target met), 1 (a target missed) or 2 (it broke)."""
    print(f"{script}{' --quick' if parsed.quick else ''}\n{provenance()}\n", flush=True)
    figures = Figures(script, parsed.json)
    try:
        measure(figures)
    except Exception:
        traceback.print_exc()
        print(f"\n{script}: could not measure (exit {EXIT_BROKEN})", file=sys.stderr)
        raise SystemExit(EXIT_BROKEN) from None
    figures.finish()
