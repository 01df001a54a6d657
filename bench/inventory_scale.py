"""The inventory at scale: 10,000 numbers on 500 trunks, through the server and fetched directly.

Everything runs in one process: the sandbox behind httpx2.ASGITransport, an AnyreachClient on it, the server
from build_server and the SDK's in-memory Client. Interleaved, round by round:
  direct     routing, then every trunk page and every number page (100 a page) with the AnyreachClient,
             the same requests the server makes, and nothing else
  resource   resources/read anyreach://inventory
  audit      tools/call audit_inventory
The sandbox's own work is inside all three, so the ratios show what the server adds to the fetching.
Memory, after the timed rounds, per operation in untimed passes of its own:
  peak new    tracemalloc started just before the operation: the most Python memory allocated during it that
              was alive at one time. What the idle, connected server already held is not traced, so this is the
              growth over the idle server; the sandbox's allocations are in it too (the `direct` row shows them).
  peak RSS    the process's resident-memory high-water mark (VmHWM, reset through /proc/self/clear_refs just
              before) minus its resident memory then (VmRSS): all memory, the allocator's slack included.

Run: python bench/inventory_scale.py [--rounds N] [--quick]
--quick: 1,000 numbers on 50 trunks, one round.
"""

from __future__ import annotations

import gc
import logging
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx2
from _common import Figures, arguments, median_ms, run
from mcp import Client

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.sandbox.schemas import TrunkCreate
from mcp_anyreach.sandbox.store import ListFilter
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings

NUMBERS = 10_000
TRUNKS = 500
PAGE_SIZE = 100
MAX_TIME_RATIO = 1.2
MAX_GROWTH_MIB = 50
MIB = 1024 * 1024


def fill(sandbox: Sandbox) -> None:
    """Bring the demo org to TRUNKS trunks and NUMBERS numbers, spread evenly over the new BYOC trunks."""
    demo = sandbox.seed.demo
    store = sandbox.store
    seeded_trunks = len(demo.managed_trunk_ids) + 1
    seeded_numbers = store.phone_numbers.list(demo.org_id, ListFilter(limit=100)).items
    new_trunks = [
        store.trunks.create(demo.org_id, TrunkCreate(name=f"bench trunk {index}")).id
        for index in range(TRUNKS - seeded_trunks)
    ]
    store.bulk_add_numbers(demo.org_id, new_trunks[0], NUMBERS - len(seeded_numbers))
    with store.db.transaction() as tx:  # deal the bulk-loaded numbers out round-robin
        loaded = [
            row[0] for row in tx.execute("SELECT phone_number FROM phone_numbers WHERE trunk_id = ?", (new_trunks[0],))
        ]
        tx.executemany(
            "UPDATE phone_numbers SET trunk_id = ? WHERE phone_number = ?",
            ((new_trunks[index % len(new_trunks)], number) for index, number in enumerate(loaded)),
        )


async def fetch_directly(api: AnyreachClient) -> int:
    """What collect_inventory requests, and nothing more: routing, every trunk page, every number page."""
    await api.inbound_routing.get()
    rows = 0
    for listing in (api.trunks.list, api.phone_numbers.list):
        cursor: str | None = None
        while True:
            page = await listing(limit=PAGE_SIZE, cursor=cursor)
            rows += len(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    return rows


async def peak_new_python_memory(operation: Callable[[], Awaitable[object]]) -> int:
    """The most memory allocated during `operation` and alive at one time (only allocations made after
    tracemalloc starts are traced: what exists before is not counted, nor its release)."""
    gc.collect()
    tracemalloc.start()
    try:
        await operation()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss() -> int | None:
    """Reset the resident-memory high-water mark (VmHWM) to the current VmRSS and return that, in KiB; None
    where /proc cannot do it (not Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return status_kib("VmRSS")
    except OSError:
        return None


async def peak_rss_growth(operation: Callable[[], Awaitable[object]]) -> int | None:
    """Resident-memory high-water mark during `operation` over the resident memory before it, in bytes."""
    gc.collect()
    before = reset_peak_rss()
    if before is None:
        return None
    await operation()
    return (status_kib("VmHWM") - before) * 1024


async def main(rounds: int, figures: Figures) -> None:
    print(f"{rounds} interleaved rounds, after one untimed")
    sandbox = open_sandbox(":memory:")
    started = time.perf_counter()
    fill(sandbox)
    print(f"loaded {NUMBERS:,} numbers on {TRUNKS} trunks in {time.perf_counter() - started:.1f}s\n")
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with AnyreachClient("http://sandbox.test", sandbox.seed.demo.api_key, transport=transport) as api:
        server = build_server(Settings(sandbox=True), api, sandbox=True)
        async with Client(server, cache=None) as client:
            rows = await fetch_directly(api)
            assert rows == NUMBERS + TRUNKS, rows

            async def read_inventory() -> None:
                await client.read_resource("anyreach://inventory")

            async def audit() -> None:
                result = await client.call_tool("audit_inventory", {})
                assert not result.is_error, result
                assert result.structured_content["organization"]["numbers"] == NUMBERS  # type: ignore[index]

            async def direct() -> None:
                await fetch_directly(api)

            operations: dict[str, Callable[[], Awaitable[None]]] = {
                "direct": direct,
                "resource": read_inventory,
                "audit": audit,
            }
            timings: dict[str, list[float]] = {name: [] for name in operations}
            for round_number in range(rounds + 1):  # the first round warms caches and is not counted
                for name, operation in operations.items():
                    began = time.perf_counter()
                    await operation()
                    if round_number:
                        timings[name].append(time.perf_counter() - began)
            python = {name: await peak_new_python_memory(operation) for name, operation in operations.items()}
            rss = {name: await peak_rss_growth(operation) for name, operation in operations.items()}
    report(timings, python, rss, figures)


def report(
    timings: dict[str, list[float]], python: dict[str, int], rss: dict[str, int | None], figures: Figures
) -> None:
    direct = median_ms(timings["direct"])
    labels = {
        "direct": "direct: routing + all pages (100/page)",
        "resource": "anyreach://inventory",
        "audit": "audit_inventory",
    }
    print(f"{'operation':<38} {'median':>9} {'/direct':>8} {'peak new':>10} {'peak RSS':>10}")
    for name, label in labels.items():
        elapsed = median_ms(timings[name])
        ratio = elapsed / direct
        rss_shown = "n/a" if rss[name] is None else f"{rss[name] / MIB:.1f} MiB"  # type: ignore[operator]
        print(f"{label:<38} {elapsed:>6.0f} ms {ratio:>7.2f}x {python[name] / MIB:>6.1f} MiB {rss_shown:>10}")
        scale = f"{NUMBERS // 1000}k numbers, {TRUNKS} trunks"
        if name == "direct":
            figures.add(f"direct fetching, {scale}", elapsed, f"{elapsed:,.0f} ms")
            continue
        figures.add(
            f"{label} / direct, {scale}",
            ratio,
            f"{ratio:.2f}x ({elapsed:,.0f} vs {direct:,.0f} ms)",
            f"≤ {MAX_TIME_RATIO}x",
            ratio <= MAX_TIME_RATIO,
        )
        figures.add(
            f"{label}, peak new Python memory",
            python[name] / MIB,
            f"{python[name] / MIB:.1f} MiB (direct {python['direct'] / MIB:.1f}; RSS peak +{rss_shown})",
            f"< {MAX_GROWTH_MIB} MiB",
            python[name] < MAX_GROWTH_MIB * MIB,
        )


if __name__ == "__main__":
    parser = arguments(__doc__)
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds, after one untimed (default 15)")
    parsed = parser.parse_args()
    if parsed.quick:  # a smaller account, so that a check that the script works takes seconds
        NUMBERS, TRUNKS = 1_000, 50
    logging.disable(logging.WARNING)
    run("inventory_scale.py", parsed, lambda figures: anyio.run(main, 1 if parsed.quick else parsed.rounds, figures))
