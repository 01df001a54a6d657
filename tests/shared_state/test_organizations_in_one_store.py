"""Several organizations served by one server keep their state apart in the one store they share: each has its
own purchase budget, and a plan made in one is never found from another."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mcp_anyreach.settings import Settings
from mcp_anyreach.shared_state import SharedState, open_shared_states
from mcp_anyreach.shared_state.budget import SqlitePurchaseBudget
from tests.shared_state.redis_server import RedisServer
from tests.shared_state.test_plan_stores import a_plan

ORGANIZATIONS = ["org-a", "org-b"]


@pytest.fixture(params=["memory", "token store file", "redis"])
async def states(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, SharedState]]:
    store: dict[str, Any] = {}
    redis: RedisServer | None = None
    if request.param == "token store file":
        store = {"token_store": tmp_path / "state.db"}
    elif request.param == "redis":
        redis = RedisServer(tmp_path)
        await redis.start()
        store = {"redis_url": redis.url}
    settings = Settings.model_validate({"sandbox": True, "max_purchases": 1, **store})
    try:
        async with open_shared_states(settings, ORGANIZATIONS) as opened:
            yield opened
    finally:
        if redis is not None:
            await redis.stop()


async def test_each_organization_spends_its_own_purchase_budget(states: dict[str, SharedState]) -> None:
    now = time.time()
    a, b = (states[org].purchases.budget for org in ORGANIZATIONS)
    assert await a.reserve(now) is not None
    assert await a.reserve(now) is None, "the first organization's one purchase is spent"
    assert await b.reserve(now) is not None, "the second organization's budget is untouched"
    assert (await a.spent(now), await b.spent(now)) == (1, 1)


async def test_a_plan_of_one_organization_is_not_found_or_taken_from_another(states: dict[str, SharedState]) -> None:
    plan = a_plan()
    a, b = (states[org].plans for org in ORGANIZATIONS)
    await a.save(plan)
    assert await b.load(plan.id) is None
    assert await b.take(plan.id) is None
    assert await a.take(plan.id) == plan


async def test_a_purchase_recorded_before_budgets_were_kept_per_organization_counts_against_every_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as old:  # the table as a file from before several organizations holds it
        old.execute("CREATE TABLE purchases (reservation TEXT PRIMARY KEY, at REAL NOT NULL)")
        old.execute("INSERT INTO purchases VALUES ('res_old', ?)", (time.time(),))
    old.close()

    budget = SqlitePurchaseBudget(path, 1, 86400.0, namespace="org-a")
    assert await budget.reserve(time.time()) is None
