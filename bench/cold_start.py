"""Cold start over stdio: spawn → initialize result, and spawn → tools/list result.

Three servers, interleaved round by round (the order rotating) so that machine noise falls on all alike:
  real     mcp-anyreach with ANYREACH_TOKEN=ak_dummy and ANYREACH_BASE_URL=http://127.0.0.1:9 (nothing is
           called at start-up, so the dead address is never reached)
  sandbox  mcp-anyreach on the embedded sandbox, --db :memory:
  bare     bench/bare_server.py: a bare mcp MCPServer with one tool
  real, gc on  (for information, no target) the real mode with the start-up pause of the cyclic garbage
           collector undone, to show what the pause saves
The client is bench/_common.py's raw JSON-RPC over pipes, so no client import is timed.

Run: python bench/cold_start.py [--runs N] [--quick]
--quick: one run of each.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import BARE_COMMAND, SERVER_COMMAND, Figures, StdioSession, arguments, median_ms, run, server_env

TARGETS = {"real": 1.10, "sandbox": 1.30}
REAL_ENV = server_env(ANYREACH_TOKEN="ak_dummy", ANYREACH_BASE_URL="http://127.0.0.1:9")  # noqa: S106 (a dummy)
GC_NOT_PAUSED = "import gc, runpy; gc.disable = lambda: None; runpy.run_module('mcp_anyreach', run_name='__main__')"
LABELS = {
    "real": "cold start, real-API mode / bare (→ tools/list)",
    "sandbox": "cold start, sandbox mode / bare (→ tools/list)",
    "real, gc on": "cold start, real-API, GC pause undone / bare",
}
VARIANTS: dict[str, tuple[Sequence[str], dict[str, str]]] = {
    "real": (SERVER_COMMAND, REAL_ENV),
    "sandbox": ((*SERVER_COMMAND, "--db", ":memory:"), server_env()),
    "bare": (BARE_COMMAND, server_env()),
    "real, gc on": ((SERVER_COMMAND[0], "-c", GC_NOT_PAUSED), REAL_ENV),
}


def one_start(command: Sequence[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """Seconds from spawn to the initialize result and to the tools/list result."""
    with log.open("ab") as sink:
        session = StdioSession(command, env, sink)
        try:
            session.initialize()
            initialized = time.perf_counter() - session.started
            tools = session.request("tools/list")["tools"]
            listed = time.perf_counter() - session.started
        finally:
            session.close()
    assert tools, "the server listed no tools"
    return initialized, listed


def main(runs: int, figures: Figures) -> None:
    print(f"{runs} interleaved runs of each\n")
    initialize: dict[str, list[float]] = {name: [] for name in VARIANTS}
    tools_list: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as logs:
        for name, (command, env) in VARIANTS.items():  # warm the OS file cache and __pycache__, untimed
            one_start(command, env, Path(logs, f"{name}.log"))
        names = list(VARIANTS)
        for round_number in range(runs):
            shift = round_number % len(names)  # each starts first in turn, so none gains or loses from its place
            for name in names[shift:] + names[:shift]:
                command, env = VARIANTS[name]
                to_initialize, to_list = one_start(command, env, Path(logs, f"{name}.log"))
                initialize[name].append(to_initialize)
                tools_list[name].append(to_list)
    bare_init, bare_list = median_ms(initialize["bare"]), median_ms(tools_list["bare"])
    print(f"{'server':<11} {'→ initialize':>13} {'→ tools/list':>13} {'ratio (list)':>13}")
    for name in VARIANTS:
        to_init, to_list = median_ms(initialize[name]), median_ms(tools_list[name])
        ratio_init, ratio_list = to_init / bare_init, to_list / bare_list
        print(
            f"{name:<11} {to_init:>10.0f} ms {to_list:>10.0f} ms {ratio_list:>12.2f}x   (initialize {ratio_init:.2f}x)"
        )
        if name == "bare":
            figures.add("cold start, bare server (→ tools/list)", to_list, f"{to_list:,.0f} ms")
            continue
        target = TARGETS.get(name)
        shown = f"{ratio_list:.2f}x ({to_list:,.0f} ms; → initialize {ratio_init:.2f}x)"
        label = LABELS[name]
        if target is None:
            figures.add(label, ratio_list, shown)
        else:
            figures.add(label, ratio_list, shown, f"≤ {target:.2f}x (both)", max(ratio_list, ratio_init) <= target)


if __name__ == "__main__":
    parser = arguments(__doc__)
    parser.add_argument("--runs", type=int, default=20, help="interleaved runs of each server (default 20)")
    parsed = parser.parse_args()
    run("cold_start.py", parsed, lambda figures: main(1 if parsed.quick else parsed.runs, figures))
