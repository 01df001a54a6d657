"""Keyset pagination benchmark: a page past the 99,000th of 100,000 numbers must cost what the first costs.

Run: python bench/pagination.py [--db PATH] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import anyio
import httpx2

from mcp_anyreach.sandbox import open_sandbox

TOTAL = 100_000
DEEP_ROW = 99_000
LIMIT = 100
MAX_RATIO = 1.5


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


async def main(db: str, rounds: int) -> float:
    sandbox = open_sandbox(db, number_limit=TOTAL * 2)
    demo = sandbox.seed.demo
    started = time.perf_counter()
    sandbox.store.bulk_add_numbers(demo.org_id, demo.byoc_trunk_id, TOTAL - 5)  # the seed holds 5
    print(f"loaded {TOTAL:,} numbers in {time.perf_counter() - started:.2f}s")
    headers = {"Authorization": f"Bearer {demo.api_key}"}
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox", headers=headers) as client:
        cursor = await deep_cursor(client)
        first_page: dict[str, str | int] = {"limit": LIMIT}
        deep_page: dict[str, str | int] = {"limit": LIMIT, "cursor": cursor}
        first: list[float] = []
        deep: list[float] = []
        for _ in range(rounds):
            first.append(await timed_get(client, first_page))
            deep.append(await timed_get(client, deep_page))
    first_median, deep_median = statistics.median(first), statistics.median(deep)
    ratio = deep_median / first_median
    print(f"first page median {first_median * 1000:.2f} ms over {rounds} requests")
    print(f"deep page  median {deep_median * 1000:.2f} ms over {rounds} requests (rows {DEEP_ROW + 1:,}+)")
    print(f"ratio deep/first  {ratio:.2f} (must stay under {MAX_RATIO})")
    return ratio


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=":memory:", help="SQLite file for the sandbox (default: in memory)")
    parser.add_argument("--rounds", type=int, default=200)
    arguments = parser.parse_args()
    measured = anyio.run(main, arguments.db, arguments.rounds)
    raise SystemExit(0 if measured < MAX_RATIO else 1)
