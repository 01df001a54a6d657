"""Undo records in each store: kept seven days by the clock passed in, and never found from another organization's
namespace, even in one shared file or one shared Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from mcp_anyreach.changes.model import UndoBasis
from mcp_anyreach.changes.undo_store import UNDO_TTL_SECONDS, MemoryUndo, UndoRecord, UndoStore, new_undo_id
from mcp_anyreach.shared_state.redis_store import RedisUndo, connect_redis
from mcp_anyreach.shared_state.undo_records import SqliteUndo
from tests.shared_state.redis_server import RedisServer

START = 1_000_000.0
StoreFactory = Callable[[str, Callable[[], float]], UndoStore]


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def undo_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """`undo_stores(namespace, clock)`: one organization's store; stores of one factory share a file or a Redis."""
    async with AsyncExitStack() as stack:
        if request.param == "memory":
            yield lambda namespace, clock: MemoryUndo(clock=clock)
        elif request.param == "sqlite":
            yield lambda namespace, clock: SqliteUndo(tmp_path / "state.db", namespace, clock=clock)
        else:
            redis = RedisServer(tmp_path)
            await redis.start()
            stack.push_async_callback(redis.stop)

            def on_redis(namespace: str, clock: Callable[[], float]) -> UndoStore:
                client = connect_redis(redis.url)
                stack.push_async_callback(client.aclose)
                return RedisUndo(client, namespace, clock=clock)

            yield on_redis


def a_record() -> UndoRecord:
    basis = UndoBasis(document={"version": 1, "routing": None}, before={"anyreach://routing": None})
    return UndoRecord(id=new_undo_id(), made_by="create_inbound_routing_config", basis=basis, after={})


async def test_a_record_lives_seven_days_by_the_clock_and_is_gone_after(undo_stores: StoreFactory) -> None:
    now = [START]
    store = undo_stores("org-a", lambda: now[0])
    kept = await store.save(a_record())

    now[0] += UNDO_TTL_SECONDS - 1
    found = await store.load(kept.id)
    now[0] += 2
    gone = await store.load(kept.id)

    assert UNDO_TTL_SECONDS == 7 * 24 * 3600
    assert found == kept
    assert kept.expires_at == START + UNDO_TTL_SECONDS
    assert gone is None


# One process's memory store serves one organization: the server makes one per organization.
@pytest.mark.parametrize("undo_stores", ["sqlite", "redis"], indirect=True)
async def test_a_record_of_one_organization_is_not_found_from_another_sharing_the_store(
    undo_stores: StoreFactory,
) -> None:
    clock = lambda: START  # noqa: E731
    ours, theirs, replica = undo_stores("org-a", clock), undo_stores("org-b", clock), undo_stores("org-a", clock)
    kept = await ours.save(a_record())

    assert await theirs.load(kept.id) is None
    assert await replica.load(kept.id) == kept
