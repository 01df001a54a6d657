"""The plan stores on their own, as several replicas see them: a plan taken once, its expiry, unfinished moves,
and a token store locked too long."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, closing
from pathlib import Path

import anyio
import pytest

from mcp_anyreach.changes.model import MoveIntent, Plan
from mcp_anyreach.changes.store import (
    MOVE_TTL_SECONDS,
    PLAN_CAPACITY,
    PLAN_TTL_SECONDS,
    PLANS_PER_CALLER,
    MemoryPlans,
    PlanStore,
    new_plan_id,
)
from mcp_anyreach.shared_state import SharedStateUnavailable
from mcp_anyreach.shared_state.plans import SqlitePlans
from mcp_anyreach.shared_state.redis_store import RedisPlans, connect_redis
from tests.shared_state.redis_server import RedisServer

REPLICAS = 10
START = 1_000_000.0
Clock = Callable[[], float]
StoreFactory = Callable[[Clock], PlanStore]


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def plan_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """`plan_stores(clock)`: one replica's store; stores made by one factory share their plans."""
    async with AsyncExitStack() as stack:
        if request.param == "memory":
            latest: list[Clock] = []
            shared = MemoryPlans(clock=lambda: latest[-1]())  # one process: one store, whose clock is the last one

            def in_memory(clock: Clock) -> PlanStore:
                latest.append(clock)
                return shared

            yield in_memory
        elif request.param == "sqlite":
            yield lambda clock: SqlitePlans(tmp_path / "state.db", clock=clock)
        else:
            redis = RedisServer(tmp_path)
            await redis.start()
            stack.push_async_callback(redis.stop)

            def on_redis(clock: Clock) -> PlanStore:
                client = connect_redis(redis.url)
                stack.push_async_callback(client.aclose)
                return RedisPlans(client, "org", clock=clock)

            yield on_redis


def a_plan() -> Plan:
    return Plan(id=new_plan_id(), steps=[], impact=[], basis={})


def a_move(phone_number: str) -> MoveIntent:
    return MoveIntent(phone_number=phone_number, from_trunk_id="trk_old", trunk_id="trk_new", outbound_shareable=True)


async def test_a_plan_taken_by_many_replicas_at_once_is_given_to_exactly_one(plan_stores: StoreFactory) -> None:
    replicas = [plan_stores(lambda: START) for _ in range(REPLICAS)]
    plan = a_plan()
    await replicas[0].save(plan)
    assert all([await store.load(plan.id) == plan for store in replicas]), "every replica is connected and sees it"
    taken: list[Plan | None] = []

    async def take(store: PlanStore) -> None:
        taken.append(await store.take(plan.id))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for store in replicas:
                group.start_soon(take, store)

    assert [found for found in taken if found is not None] == [plan]
    assert await replicas[1].load(plan.id) is None


async def test_a_plan_is_found_by_every_replica_until_its_30_minutes_are_over(plan_stores: StoreFactory) -> None:
    now = [START]
    planner, other = plan_stores(lambda: now[0]), plan_stores(lambda: now[0])
    plan, late = a_plan(), a_plan()
    await planner.save(plan)
    await planner.save(late)

    now[0] = START + PLAN_TTL_SECONDS - 1
    assert await other.load(plan.id) == plan
    now[0] = START + PLAN_TTL_SECONDS + 1
    assert await other.load(plan.id) is None
    assert await other.take(late.id) is None, "an expired plan is not run"


async def test_unfinished_moves_are_read_whole_by_every_replica_until_forgotten_or_seven_days_old(
    plan_stores: StoreFactory,
) -> None:
    now = [START]
    first, second = plan_stores(lambda: now[0]), plan_stores(lambda: now[0])
    await first.remember_moves({"+12125550132": a_move("+12125550132"), "+12125550131": a_move("+12125550131")})
    now[0] += 3600
    await second.remember_moves({"+13125550143": a_move("+13125550143")})

    assert await second.moves() == {phone: a_move(phone) for phone in ("+12125550132", "+12125550131", "+13125550143")}
    await second.forget_moves(["+12125550131"])
    assert set(await first.moves()) == {"+12125550132", "+13125550143"}
    now[0] = START + MOVE_TTL_SECONDS + 1
    assert set(await first.moves()) == {"+13125550143"}, "the first moves are older than 7 days"
    now[0] += 3600
    assert await second.moves() == {}


async def test_a_token_store_locked_past_its_timeout_refuses_and_the_plan_stays_for_later(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    replica = SqlitePlans(path, clock=lambda: START, timeout=0.1)
    plan = a_plan()
    await replica.save(plan)
    with closing(sqlite3.connect(path, isolation_level=None)) as backup:
        backup.execute("BEGIN IMMEDIATE")  # another replica, or a backup, holding the file
        with anyio.fail_after(10), pytest.raises(SharedStateUnavailable, match="token store could not be used"):
            await replica.take(plan.id)
        with pytest.raises(SharedStateUnavailable):
            await replica.remember_moves({"+12125550132": a_move("+12125550132")})
        backup.execute("ROLLBACK")

    assert await replica.moves() == {}
    assert await replica.take(plan.id) == plan


async def test_many_callers_planning_fill_no_store_beyond_its_capacity_and_newer_plans_stay(
    plan_stores: StoreFactory,
) -> None:
    now = [START]
    replica = plan_stores(lambda: now[0])
    plans = [a_plan() for _ in range(PLAN_CAPACITY + 20)]
    for n, plan in enumerate(plans):
        now[0] += 1
        await replica.save(plan, f"caller-{n}")
    taken = await replica.take(plans[-1].id)
    await replica.save(a_plan(), "one more caller")

    kept = [plan for plan in plans[:-1] if await replica.load(plan.id) is not None]
    assert taken == plans[-1]
    assert kept == plans[-PLAN_CAPACITY:-1], "the oldest are dropped; a plan taken frees its place"


async def test_a_caller_planning_in_a_loop_drops_only_its_own_oldest_plans_and_another_callers_plan_stays(
    plan_stores: StoreFactory,
) -> None:
    now = [START]
    admin, reader = plan_stores(lambda: now[0]), plan_stores(lambda: now[0])
    admins = a_plan()
    await admin.save(admins, "admin")
    loop = [a_plan() for _ in range(PLAN_CAPACITY + 1)]
    for plan in loop:
        now[0] += 1
        await reader.save(plan, "reader")

    kept = [plan for plan in loop if await reader.load(plan.id) is not None]
    assert await admin.take(admins.id) == admins
    assert kept == loop[-PLANS_PER_CALLER:], "the reader keeps only its newest plans"


async def test_a_token_store_file_from_before_plan_quotas_keeps_plans_per_caller(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with closing(sqlite3.connect(path)) as earlier:
        earlier.execute("CREATE TABLE plans (id TEXT PRIMARY KEY, expires_at REAL NOT NULL, plan TEXT NOT NULL)")
        earlier.commit()
    replica = SqlitePlans(path, clock=lambda: START)
    plan = a_plan()
    await replica.save(plan, "admin")

    assert await replica.take(plan.id) == plan
