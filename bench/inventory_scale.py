"""The inventory at scale: 10,000 numbers on 500 trunks, through the server and fetched directly.

Everything runs in one process: the sandbox behind httpx2.ASGITransport, an AnyreachClient on it, the server
from build_server and the SDK's in-memory Client. Interleaved, round by round:
  direct     routing, then every trunk page and every number page (100 a page) with the AnyreachClient,
             the same requests the server makes, and nothing else
  resource   resources/read anyreach://inventory
  audit      tools/call audit_inventory
The sandbox's own work is inside all three, so the ratios show what the server adds to the fetching.
Memory: tracemalloc peak during one operation minus what was traced when it began (the idle, connected
server), each in its own untimed pass; Python allocations only, the sandbox's included (see `direct`).
As an upper bound, the growth of the process's max RSS over the whole run (all operations, sandbox too).

Run: python bench/inventory_scale.py [--rounds N]
"""

from __future__ import annotations

import argparse
import gc
import logging
import resource
import time
import tracemalloc
from collections.abc import Awaitable, Callable

import anyio
import httpx2
from _common import machine, median_ms
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


async def peak_growth(operation: Callable[[], Awaitable[object]]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        idle, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        await operation()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - idle


async def main(rounds: int) -> bool:
    print(f"{machine()}; {rounds} interleaved rounds")
    sandbox = open_sandbox(":memory:")
    started = time.perf_counter()
    fill(sandbox)
    print(f"loaded {NUMBERS:,} numbers on {TRUNKS} trunks in {time.perf_counter() - started:.1f}s\n")
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with AnyreachClient("http://sandbox.test", sandbox.seed.demo.api_key, transport=transport) as api:
        server = build_server(Settings(sandbox=True), api, sandbox=True)
        async with Client(server, cache=None) as client:
            idle_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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
            growth = {name: await peak_growth(operation) for name, operation in operations.items()}
            rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - idle_rss
    met = report(timings, growth)
    print(f"process max-RSS growth over the idle server, whole run, sandbox included: {rss_growth / 1024:.1f} MiB")
    return met


def report(timings: dict[str, list[float]], growth: dict[str, int]) -> bool:
    direct = median_ms(timings["direct"])
    met = True
    print(f"{'operation':<38} {'median':>9} {'/direct':>8} {'peak growth':>12}")
    labels = {
        "direct": "direct: routing + all pages (100/page)",
        "resource": "anyreach://inventory",
        "audit": "audit_inventory",
    }
    for name, label in labels.items():
        elapsed = median_ms(timings[name])
        ratio = elapsed / direct
        if name != "direct":
            met &= ratio <= MAX_TIME_RATIO and growth[name] < MAX_GROWTH_MIB * MIB
        print(f"{label:<38} {elapsed:>6.0f} ms {ratio:>7.2f}x {growth[name] / MIB:>8.1f} MiB")
    print(f"targets: time ≤{MAX_TIME_RATIO}x direct, peak growth <{MAX_GROWTH_MIB} MiB: {'ok' if met else 'MISSED'}")
    return met


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    logging.disable(logging.WARNING)
    anyio.run(main, arguments.rounds)
