"""Each shared store on its own: the purchase budget over a rolling window, used tokens, remembered offers,
and what happens while Redis is away."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import pytest

from mcp_anyreach.api import AvailableNumber
from mcp_anyreach.server.gate.tokens import ConfirmationError, Preview, StoreUnavailable, TokenSigner
from mcp_anyreach.shared_state import SharedStateUnavailable
from mcp_anyreach.shared_state.budget import MemoryPurchaseBudget, PurchaseBudget, SqlitePurchaseBudget
from mcp_anyreach.shared_state.redis_store import (
    RedisOffers,
    RedisPurchaseBudget,
    RedisUsedTokens,
    connect_redis,
)
from mcp_anyreach.shared_state.used_tokens import FirstUse
from tests.shared_state.redis_server import RedisServer

DAY = 86400.0
REPLICAS = 3
BudgetFactory = Callable[[int, float], PurchaseBudget]


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def budgets(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BudgetFactory]:
    """`budgets(limit, window)`: one replica's view of a budget; replicas made by one factory share it."""
    async with AsyncExitStack() as stack:
        if request.param == "memory":
            shared = MemoryPurchaseBudget(0, 0)

            def in_memory(limit: int, window: float) -> PurchaseBudget:
                shared.limit, shared.window_seconds = limit, window
                return shared

            yield in_memory
        elif request.param == "sqlite":
            yield lambda limit, window: SqlitePurchaseBudget(tmp_path / "state.db", limit, window)
        else:
            redis = RedisServer(tmp_path)
            await redis.start()
            stack.push_async_callback(redis.stop)

            def on_redis(limit: int, window: float) -> PurchaseBudget:
                client = connect_redis(redis.url)
                stack.push_async_callback(client.aclose)
                return RedisPurchaseBudget(client, "org", limit, window)

            yield on_redis


async def test_the_budget_grants_the_limit_then_refuses_until_the_oldest_leaves_the_window(
    budgets: BudgetFactory,
) -> None:
    budget = budgets(2, DAY)

    granted = [await budget.reserve(now) for now in (1000.0, 2000.0, 3000.0)]
    assert [slot is not None for slot in granted] == [True, True, False]
    assert await budget.spent(3000.0) == 2

    assert await budget.reserve(1000.0 + DAY - 1) is None, "the first purchase is still in the window"
    assert await budget.reserve(1000.0 + DAY + 1) is not None, "the first purchase left the window"


async def test_every_replica_of_the_budget_tells_when_its_oldest_purchase_leaves_the_window(
    budgets: BudgetFactory,
) -> None:
    budget, other_replica = budgets(2, DAY), budgets(2, DAY)
    assert await budget.frees_at(500.0) is None, "nothing bought, nothing to wait for"

    await budget.reserve(1000.0)
    await other_replica.reserve(2000.0)

    assert await other_replica.frees_at(3000.0) == 1000.0 + DAY
    assert await budget.frees_at(1000.0 + DAY + 1) == 2000.0 + DAY, "the first purchase has left the window"


async def test_a_released_reservation_frees_its_slot(budgets: BudgetFactory) -> None:
    budget = budgets(1, DAY)
    slot = await budget.reserve(1000.0)
    assert slot is not None
    assert await budget.reserve(1001.0) is None

    await budget.release(slot)

    assert await budget.reserve(1002.0) is not None


async def test_replicas_reserving_at_once_get_exactly_the_limit_between_them(budgets: BudgetFactory) -> None:
    replicas = [budgets(7, DAY) for _ in range(REPLICAS)]
    granted: list[str] = []

    async def reserve(budget: PurchaseBudget) -> None:
        slot = await budget.reserve(5000.0)
        if slot is not None:
            granted.append(slot)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for attempt in range(60):
                group.start_soon(reserve, replicas[attempt % REPLICAS])

    assert len(set(granted)) == 7


async def test_a_token_is_used_once_across_replicas_and_remembered_with_its_outcome_across_a_redis_restart(
    tmp_path: Path,
) -> None:
    redis = RedisServer(tmp_path)
    await redis.start()
    clients = [connect_redis(redis.url) for _ in range(REPLICAS)]
    try:
        replicas = [RedisUsedTokens(client, "org") for client in clients]
        claims: list[str] = []

        async def claim(used: RedisUsedTokens) -> None:
            claims.append(await used.claim("nonce-1", expires_at=4e9, now=1e9))

        async with anyio.create_task_group() as group:
            for attempt in range(30):
                group.start_soon(claim, replicas[attempt % REPLICAS])
        running = await replicas[2].first_use("nonce-1", now=1e9)
        await replicas[0].settle("nonce-1", '{"done": "it"}', expires_at=4e9, now=1e9)
        await redis.stop()
        await redis.start()

        assert sorted(claims) == ["fresh"] + ["used"] * 29
        assert await replicas[0].claim("nonce-1", expires_at=4e9, now=1e9) == "used"
        assert running == FirstUse("running")
        assert await replicas[1].first_use("nonce-1", now=1e9) == FirstUse("done", '{"done": "it"}')
        assert await replicas[1].claim("nonce-2", expires_at=4e9, now=1e9) == "fresh"
    finally:
        for client in clients:
            await client.aclose()
        await redis.stop()


async def test_while_redis_is_away_a_token_is_refused_unused_and_accepted_once_it_is_back(
    redis_server: RedisServer,
) -> None:
    client = connect_redis(redis_server.url)
    try:
        signer = TokenSigner(b"k" * 32, used=RedisUsedTokens(client, "org"), clock=lambda: 100.0)
        args = {"trunk_id": "trk_1"}
        preview = Preview("delete it", "state", ("anyreach://trunks/trk_1",))
        token = signer.mint("delete_trunk", args, preview, "caller:alice")
        await redis_server.stop()

        with anyio.fail_after(15), pytest.raises(StoreUnavailable, match="same confirmation_token"):
            await signer.redeem(token, "delete_trunk", args, preview, "caller:alice")

        await redis_server.start()
        await signer.redeem(token, "delete_trunk", args, preview, "caller:alice")
        with pytest.raises(ConfirmationError, match="already used"):
            await signer.redeem(token, "delete_trunk", args, preview, "caller:alice")
    finally:
        await client.aclose()


async def test_while_redis_is_away_the_budget_says_so_and_reserves_nothing(redis_server: RedisServer) -> None:
    client = connect_redis(redis_server.url)
    try:
        budget = RedisPurchaseBudget(client, "org", 1, DAY)
        await redis_server.stop()
        with anyio.fail_after(15), pytest.raises(SharedStateUnavailable):
            await budget.reserve(1000.0)
        await redis_server.start()

        assert await budget.spent(1000.0) == 0
        assert await budget.reserve(1000.0) is not None
    finally:
        await client.aclose()


async def test_offers_remembered_by_one_replica_are_recalled_by_another_until_bought(
    redis_server: RedisServer,
) -> None:
    a, b = connect_redis(redis_server.url), connect_redis(redis_server.url)
    try:
        offer = AvailableNumber(phone_number="+14155550177", locality="San Francisco", phone_number_type="local")
        await RedisOffers(a, "org").remember([offer])

        assert await RedisOffers(b, "org").recall("+14155550177") == offer
        assert await RedisOffers(b, "another-org").recall("+14155550177") is None
        await RedisOffers(b, "org").forget("+14155550177")
        assert await RedisOffers(a, "org").recall("+14155550177") is None
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_token_is_stale_on_every_replica_once_another_replica_wrote_what_it_touches(
    redis_server: RedisServer,
) -> None:
    a, b = connect_redis(redis_server.url), connect_redis(redis_server.url)
    try:
        target = "anyreach://trunks/trk_1"
        await RedisUsedTokens(b, "org").touch([target], now=150.0, keep_until=450.0)

        minted_before = await RedisUsedTokens(a, "org").claim(
            "nonce-1", expires_at=400.0, now=160.0, targets=[target], minted_at=100.0
        )
        minted_after = await RedisUsedTokens(a, "org").claim(
            "nonce-2", expires_at=500.0, now=200.0, targets=[target], minted_at=170.0
        )
        minted_before_that_claim = await RedisUsedTokens(b, "org").claim(
            "nonce-3", expires_at=500.0, now=210.0, targets=[target], minted_at=190.0
        )

        assert (minted_before, minted_after) == ("stale", "fresh")
        assert minted_before_that_claim == "stale", "nonce-2 wrote the target after nonce-3 was minted"
    finally:
        await a.aclose()
        await b.aclose()
