"""Keyset pagination benchmark: a page past the 99,000th of 100,000 numbers must cost what the first costs.

Both pages are fetched through httpx2.ASGITransport from an in-process sandbox, round by round, each going first
in half the rounds, after 10 untimed.

Run: python bench/pagination.py [--db PATH] [--rounds N] [--quick]
--quick: 10,000 numbers (the page past row 9,000), 20 rounds.
"""

from __future__ import annotations

import time

import anyio
import httpx2
from _common import Figures, arguments, median_ms, run

from mcp_anyreach.sandbox import open_sandbox

TOTAL = 100_000
DEEP_ROW = 99_000
LIMIT = 100
MAX_RATIO = 1.5
WARMUP = 10


async def deep_cursor(client: httpx2.AsyncClient) -> str:
    """Walk the pages legitimately until the next one starts past row DEEP_ROW."""
    params: dict[str, str | int] = {"limit": LIMIT}
    for _ in range(DEEP_ROW // LIMIT):
        response = await client.get("/core/phone-numbers", params=params)
        params["cursor"] = response.headers["X-Next-Cursor"]
    return str(params["cursor"])


async def timed_get(client: httpx2.AsyncClient, params: dict[str, str | int]) -> float:
    started = time.perf_counter()
    response = await client.get("/core/phone-numbers", params=params)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert len(response.json()) == LIMIT
    return elapsed


async def main(db: str, rounds: int, figures: Figures) -> None:
    sandbox = open_sandbox(db, number_limit=TOTAL * 2)
    demo = sandbox.seed.demo
    started = time.perf_counter()
    sandbox.store.bulk_add_numbers(demo.org_id, demo.byoc_trunk_id, TOTAL - 5)  # the seed holds 5
    print(f"loaded {TOTAL:,} numbers in {time.perf_counter() - started:.2f}s; {rounds} interleaved rounds")
    headers = {"Authorization": f"Bearer {demo.api_key}"}
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox", headers=headers) as client:
        cursor = await deep_cursor(client)
        first_page: dict[str, str | int] = {"limit": LIMIT}
        deep_page: dict[str, str | int] = {"limit": LIMIT, "cursor": cursor}
        first: list[float] = []
        deep: list[float] = []
        for round_number in range(WARMUP + rounds):
            if round_number % 2:  # each goes first in half the rounds, so neither gains from its place
                deep_time, first_time = await timed_get(client, deep_page), await timed_get(client, first_page)
            else:
                first_time, deep_time = await timed_get(client, first_page), await timed_get(client, deep_page)
            if round_number >= WARMUP:
                first.append(first_time)
                deep.append(deep_time)
    first_median, deep_median = median_ms(first), median_ms(deep)
    ratio = deep_median / first_median
    print(f"first page median {first_median:.2f} ms")
    print(f"deep page  median {deep_median:.2f} ms (rows {DEEP_ROW + 1:,}+)")
    figures.add(
        f"page past row {DEEP_ROW:,} / first page, {TOTAL // 1000}k numbers",
        ratio,
        f"{ratio:.2f} ({deep_median:.2f} vs {first_median:.2f} ms)",
        f"< {MAX_RATIO}",
        ratio < MAX_RATIO,
    )


if __name__ == "__main__":
    parser = arguments(__doc__)
    parser.add_argument("--db", default=":memory:", help="SQLite file for the sandbox (default: in memory)")
    parser.add_argument("--rounds", type=int, default=300, help="timed rounds (default 300)")
    parsed = parser.parse_args()
    rounds = 20 if parsed.quick else parsed.rounds
    if parsed.quick:  # a smaller account, so that a check that the script works takes seconds
        TOTAL, DEEP_ROW = 10_000, 9_000
    run("pagination.py", parsed, lambda figures: anyio.run(main, parsed.db, rounds, figures))
