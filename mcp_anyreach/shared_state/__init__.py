"""The state replicas must share: used confirmation tokens, the purchase budget, the offers searches made,
change-set plans with their unfinished moves, and the undo records of applied changes.

Three stores, chosen by the settings: Redis (`--redis-url`, replicas on several machines), the token store's
SQLite file (`--token-store`, replicas on one host), or this process's memory (one server). Whatever the
store, a gated write that needs it refuses, changing nothing, when it cannot be reached; reads never need it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from mcp_anyreach.changes.store import MemoryPlans, PlanStore
from mcp_anyreach.changes.undo_store import MemoryUndo, UndoStore
from mcp_anyreach.settings import Settings
from mcp_anyreach.shared_state.budget import MemoryPurchaseBudget, PurchaseBudget, SqlitePurchaseBudget
from mcp_anyreach.shared_state.errors import SharedStateUnavailable
from mcp_anyreach.shared_state.offers import MemoryOffers, OfferMemory
from mcp_anyreach.shared_state.plans import SqlitePlans
from mcp_anyreach.shared_state.purchases import Purchases
from mcp_anyreach.shared_state.sqlite_file import SqliteFile
from mcp_anyreach.shared_state.undo_records import SqliteUndo
from mcp_anyreach.shared_state.used_tokens import MemoryUsedTokens, SqliteUsedTokens, UsedTokens

__all__ = [
    "OfferMemory",
    "PurchaseBudget",
    "Purchases",
    "SharedState",
    "SharedStateUnavailable",
    "open_shared_state",
    "open_shared_states",
]


async def _nothing_to_close() -> None:
    return None


@dataclass
class SharedState:
    used_tokens: UsedTokens
    purchases: Purchases
    plans: PlanStore  # between plan_changes and apply_changes
    undo: UndoStore = field(default_factory=MemoryUndo)  # what applied changes replaced, for their undo
    aclose: Callable[[], Awaitable[None]] = field(default=_nothing_to_close)


def shared_state(settings: Settings, namespace: str, *, clock: Callable[[], float] = time.time) -> SharedState:
    """The store the settings ask for; `namespace` (the organization's fingerprint: base URL and organization id,
    never the credential) keeps organizations apart."""
    return shared_states(settings, [namespace], clock=clock)[namespace]


def shared_states(
    settings: Settings, namespaces: Sequence[str], *, clock: Callable[[], float] = time.time
) -> dict[str, SharedState]:
    """One state per namespace (organization), all in the one store the settings ask for: one Redis connection
    or one file handle, which the first namespace's `aclose` closes."""
    window = settings.purchase_window.total_seconds()
    if settings.redis_url is not None:
        try:
            from mcp_anyreach.shared_state.redis_store import (  # only deployments with Redis import it
                RedisOffers,
                RedisPlans,
                RedisPurchaseBudget,
                RedisUndo,
                RedisUsedTokens,
                connect_redis,
            )
        except ImportError as exc:
            raise ValueError("MCP_ANYREACH_REDIS_URL needs the redis client: pip install 'mcp-anyreach[team]'") from exc

        redis = connect_redis(settings.redis_url.get_secret_value())
        return _closed_by_first(
            namespaces,
            lambda namespace: SharedState(
                used_tokens=RedisUsedTokens(redis, namespace),
                purchases=Purchases(
                    RedisPurchaseBudget(redis, namespace, settings.max_purchases, window),
                    RedisOffers(redis, namespace),
                    clock,
                ),
                plans=RedisPlans(redis, namespace, clock=clock),
                undo=RedisUndo(redis, namespace, clock=clock),
            ),
            redis.aclose,
        )
    if settings.token_store is not None:
        # One connection for every store: one lock in this process, one file handle to close.
        file = SqliteFile(settings.token_store, unavailable=SharedStateUnavailable)

        async def close_file() -> None:
            file.close()

        return _closed_by_first(
            namespaces,
            lambda namespace: SharedState(
                used_tokens=SqliteUsedTokens(file, namespace=namespace),
                purchases=Purchases(
                    SqlitePurchaseBudget(file, settings.max_purchases, window, namespace=namespace),
                    MemoryOffers(),
                    clock,
                ),
                plans=SqlitePlans(file, clock=clock, namespace=namespace),
                undo=SqliteUndo(file, namespace, clock=clock),
            ),
            close_file,
        )
    return {
        namespace: SharedState(
            used_tokens=MemoryUsedTokens(),
            purchases=Purchases(MemoryPurchaseBudget(settings.max_purchases, window), MemoryOffers(), clock),
            plans=MemoryPlans(clock=clock),
            undo=MemoryUndo(clock=clock),
        )
        for namespace in namespaces
    }


def _closed_by_first(
    namespaces: Sequence[str], state: Callable[[str], SharedState], aclose: Callable[[], Awaitable[None]]
) -> dict[str, SharedState]:
    states = {namespace: state(namespace) for namespace in namespaces}
    if states:
        states[namespaces[0]].aclose = aclose
    return states


@asynccontextmanager
async def open_shared_state(
    settings: Settings, namespace: str, *, clock: Callable[[], float] = time.time
) -> AsyncGenerator[SharedState]:
    async with open_shared_states(settings, [namespace], clock=clock) as states:
        yield states[namespace]


@asynccontextmanager
async def open_shared_states(
    settings: Settings, namespaces: Sequence[str], *, clock: Callable[[], float] = time.time
) -> AsyncGenerator[dict[str, SharedState]]:
    states = shared_states(settings, namespaces, clock=clock)
    try:
        yield states
    finally:
        for state in states.values():
            await state.aclose()
