"""Change sets on stateless replicas behind a proxy: planned on one replica, applied on another, sharing their
plans and unfinished moves through Redis or the token store's SQLite file. Real servers on the real sandbox,
in this process."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent
from redis.asyncio import Redis

from mcp_anyreach.changes.store import PLAN_TTL_SECONDS
from mcp_anyreach.sandbox import Faults, Sandbox, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from mcp_anyreach.shared_state import open_shared_state
from mcp_anyreach.shared_state.redis_store import key_prefix
from tests.server.conftest import call, connect, sandbox_api
from tests.shared_state.redis_server import RedisServer

DELETE_UNUSED = {"operations": [{"op": "delete_numbers", "unused": True}]}
UNUSED = {"+14155550102", "+13125550143"}  # no agent on either slot in the seed, not shareable
# As in tests/server/test_change_sets.py: the fault falls on step 4, registering +12125550132 after its delete.
FAULT_SEED = 17
INTERRUPTED = "+12125550132"
TRUNK_WITH_PASSWORD = """
trunks:
  items:
    - name: Carrier B
      inbound:
        allowed_addresses: [203.0.113.77/32]
        auth_username: carrier-b
        auth_password: {env: ANYREACH_SIP_CARRIER_B}
"""
PASSWORD = "s3cret-carrier-b"


@dataclass
class SharedStore:
    """The settings naming one shared store, and a way to read a plan as the store holds it."""

    fields: dict[str, Any]

    async def raw_plan(self, namespace: str, plan_id: str) -> str:
        if "token_store" in self.fields:
            with closing(sqlite3.connect(self.fields["token_store"])) as db:
                (raw,) = db.execute("SELECT plan FROM plans WHERE id = ?", (plan_id,)).fetchone()
            return str(raw)
        redis = Redis.from_url(self.fields["redis_url"], decode_responses=True)  # pyright: ignore[reportUnknownMemberType]
        try:
            raw = await redis.get(f"{key_prefix(namespace)}plan:{plan_id}")
        finally:
            await redis.aclose()
        assert raw is not None
        return str(raw)


@pytest.fixture(params=["redis", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SharedStore]:
    if request.param == "sqlite":
        yield SharedStore({"token_store": tmp_path / "state.db"})
        return
    redis = RedisServer(tmp_path)
    await redis.start()
    try:
        yield SharedStore({"redis_url": redis.url})
    finally:
        await redis.stop()


@dataclass
class Replicas:
    clients: list[Client]
    namespace: str
    sandbox: Sandbox = field(repr=False)


@asynccontextmanager
async def replicas(
    sandbox: Sandbox,
    store: SharedStore,
    era: str,
    *,
    clock: Callable[[], float] = time.time,
    count: int = 2,
    api_options: dict[str, Any] | None = None,
    **fields: Any,
) -> AsyncIterator[Replicas]:
    """`count` stateless replicas with one confirmation secret and one shared store; `clock` is their stores'."""
    settings = Settings.model_validate(
        {
            "sandbox": True,
            "stateless": True,
            "confirm_secret": "replicas-share-this-secret-0123456789abcdef",
            **store.fields,
            **fields,
        }
    )
    async with AsyncExitStack() as stack:
        clients: list[Client] = []
        namespace = ""
        for _ in range(count):
            api = await stack.enter_async_context(sandbox_api(sandbox, **(api_options or {})))
            shared = await stack.enter_async_context(open_shared_state(settings, api.identity, clock=clock))
            server = build_server(settings, api, sandbox=True, shared=shared)
            clients.append(await stack.enter_async_context(connect(server, era)))
            namespace = api.identity
        yield Replicas(clients, namespace, sandbox)


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


def text(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))


def error(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    return text(result)


async def directory(sandbox: Sandbox) -> dict[str, Any]:
    async with sandbox_api(sandbox) as api:
        return {number.phone_number: number async for number in api.phone_numbers.iter()}


async def test_a_plan_made_on_one_replica_is_confirmed_and_applied_on_another(store: SharedStore, era: str) -> None:
    sandbox = open_sandbox(":memory:")
    async with replicas(sandbox, store, era) as cluster:
        planner, applier = cluster.clients
        plan = data(await call(planner, "plan_changes", DELETE_UNUSED))
        arguments = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
        done = data(await call(applier, "apply_changes", arguments))
        repeated = data(await call(planner, "apply_changes", arguments))

    assert done["status"] == "done"
    assert done["result"]["done"] == len(UNUSED)
    assert not UNUSED & set(await directory(sandbox))
    # Repeated on the other replica (a client that lost the answer): the plan's report again, nothing run twice.
    assert repeated["repeat"] is True
    assert repeated["result"] == done["result"]


async def test_two_replicas_applying_one_plan_at_the_same_moment_run_it_once(store: SharedStore) -> None:
    sandbox = open_sandbox(":memory:")
    outcomes: list[CallToolResult] = []
    async with replicas(sandbox, store, "legacy", count=3, no_confirm=True) as cluster:
        planner, *appliers = cluster.clients
        plan = data(await call(planner, "plan_changes", DELETE_UNUSED))
        deletes_before = sandbox.app.state.request_counts["DELETE"]

        async def apply(replica: Client) -> None:
            outcomes.append(await call(replica, "apply_changes", {"plan_id": plan["plan_id"]}))

        async with anyio.create_task_group() as group:
            for replica in appliers:
                group.start_soon(apply, replica)

    done = [data(result) for result in outcomes if not result.is_error]
    (refused,) = [error(result) for result in outcomes if result.is_error]
    assert [result["status"] for result in done] == ["done"]
    assert "plan_changes again" in refused
    # The loser either finds the plan taken or, when the winner has already written, the state it planned on gone.
    reasons = ("applied or expired meanwhile", "run once", "changed since it was planned")
    assert any(reason in refused for reason in reasons), refused
    assert sandbox.app.state.request_counts["DELETE"] - deletes_before == len(UNUSED), "each number deleted once"
    assert not UNUSED & set(await directory(sandbox))


async def test_a_plan_past_its_30_minutes_is_refused_on_another_replica_and_changes_nothing(
    store: SharedStore,
) -> None:
    sandbox = open_sandbox(":memory:")
    now = [time.time()]
    async with replicas(sandbox, store, "auto", clock=lambda: now[0]) as cluster:
        planner, applier = cluster.clients
        plan = data(await call(planner, "plan_changes", DELETE_UNUSED))
        now[0] += PLAN_TTL_SECONDS - 1
        shown = data(await call(applier, "apply_changes", {"plan_id": plan["plan_id"]}))
        now[0] += 2
        arguments = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
        refused = error(await call(applier, "apply_changes", arguments))

    assert shown["status"] == "confirmation_required", "a minute before it expires, the other replica has it"
    assert f"There is no plan {plan['plan_id']}" in refused
    assert "plan_changes again" in refused
    assert set(await directory(sandbox)) >= UNUSED


async def test_a_move_interrupted_on_one_replica_is_finished_by_planning_again_on_another(store: SharedStore) -> None:
    faults = Faults(error_rate=0.25, seed=FAULT_SEED, max_faults=1, enabled=False)
    sandbox = open_sandbox(":memory:", faults=faults)
    old = sandbox.seed.demo.byoc_trunk_id
    async with sandbox_api(sandbox) as api:
        before = {n.phone_number: n async for n in api.phone_numbers.iter(trunk_id=old)}
        new = await api.trunks.create(name="New carrier")
    move = {"operations": [{"op": "move_numbers", "to_trunk_id": new.id, "from_trunk_id": old}]}
    async with replicas(sandbox, store, "auto", api_options={"max_retries": 0}, no_confirm=True) as cluster:
        first, second = cluster.clients
        plan = data(await call(first, "plan_changes", move))
        faults.enabled = True
        stopped = data(await call(first, "apply_changes", {"plan_id": plan["plan_id"]}))
        faults.enabled = False
        gone = INTERRUPTED not in await directory(sandbox)
        again = data(await call(second, "plan_changes", move))
        finished = data(await call(second, "apply_changes", {"plan_id": again["plan_id"]}))
        third = data(await call(first, "plan_changes", move))
    after = await directory(sandbox)

    assert stopped["status"] == "partial"
    assert gone, "stopped between the delete and the register of a moved number"
    assert INTERRUPTED in json.dumps(again["steps"]), "the other replica knew where the number was going"
    assert finished["status"] == "done"
    assert third["summary"].startswith("Nothing to do")
    for phone, number in before.items():
        assert after[phone].trunk_id == new.id
        assert after[phone].inbound_agent_version_id == number.inbound_agent_version_id
        assert after[phone].outbound_agent_version_id == number.outbound_agent_version_id
        assert after[phone].outbound_shareable == number.outbound_shareable


async def test_with_redis_stopped_planning_and_applying_refuse_saying_nothing_changed_until_it_is_back(
    redis_server: RedisServer,
) -> None:
    sandbox = open_sandbox(":memory:")
    async with replicas(sandbox, SharedStore({"redis_url": redis_server.url}), "auto") as cluster:
        planner, applier = cluster.clients
        plan = data(await call(planner, "plan_changes", DELETE_UNUSED))
        arguments = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
        await redis_server.stop()
        planning = error(await call(applier, "plan_changes", DELETE_UNUSED))
        applying = error(await call(applier, "apply_changes", arguments))
        untouched = set(await directory(sandbox))
        await redis_server.start()
        done = data(await call(applier, "apply_changes", arguments))

    for refused in (planning, applying):
        assert "could not be reached" in refused
        assert "nothing was changed" in refused
        assert "Try again in a minute" in refused
        assert "Redis or token store" in refused
    assert untouched >= UNUSED
    assert done["status"] == "done", "the plan and its unused token were kept while Redis was away"
    assert not UNUSED & set(await directory(sandbox))


async def test_a_stored_plan_names_the_trunk_passwords_variable_and_never_holds_the_password(
    store: SharedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYREACH_SIP_CARRIER_B", PASSWORD)
    sandbox = open_sandbox(":memory:")
    async with replicas(sandbox, store, "auto", no_confirm=True) as cluster:
        planner, applier = cluster.clients
        plan = data(await call(planner, "plan_changes", {"desired_state": TRUNK_WITH_PASSWORD}))
        stored = await store.raw_plan(cluster.namespace, plan["plan_id"])
        done = data(await call(applier, "apply_changes", {"plan_id": plan["plan_id"]}))
    async with sandbox_api(sandbox) as api:
        (trunk,) = [t async for t in api.trunks.iter() if t.name == "Carrier B"]

    assert [step["action"] for step in plan["steps"]] == ["create_trunk"]
    assert '"auth_password":{"env":"ANYREACH_SIP_CARRIER_B"}' in stored
    assert PASSWORD not in stored
    assert done["status"] == "done"
    assert trunk.inbound_config is not None
    assert trunk.inbound_config.password_set, "the replica that applied read the password from its environment"
