"""Retries that never double: a client that lost its connection sends the same confirmed call again.

The 2026-07-28 protocol has no stream resumption, so the repeat is the same call with the same confirmation token.
After the first use succeeded it is answered with the first outcome, marked as a repeat, and nothing reaches the
API again; with other arguments it is refused; after a failed first use the token stays spent; while the first
use still runs the repeat says so. The outcome is kept with the used token, in each store, without secrets.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, cast

import anyio
import httpx2
import pytest
from mcp import Client
from mcp_types import CallToolResult
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.server.registry import SPECS
from mcp_anyreach.settings import Settings
from mcp_anyreach.shared_state import open_shared_state
from mcp_anyreach.shared_state.redis_store import connect_redis
from tests.reliability.live import data, texts
from tests.server.conftest import (
    ERAS,
    ServerFactory,
    api,
    connect,
    in_directory,
    make_server,
    refusing_deletes_of,
    sandbox,
    sandbox_api,
    write_arguments,
)
from tests.shared_state.redis_server import RedisServer

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server

REPEATED = "Already done (this confirmation token was used once): "
REPEATED_PART = "Already run part-way (this confirmation token was used once): "
SECRET = "replicas-share-this-secret-0123456789abcdef"
SIP_PASSWORD = "never-stored-S1P-pa55"
TIMEOUT = 30.0


async def _offer(api: AnyreachClient, sandbox: Sandbox) -> str:
    offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code="415")
    return offers[0].phone_number


async def _token(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    outcome = data(await client.call_tool(tool, arguments))
    assert outcome["status"] == "confirmation_required", outcome
    return str(outcome["confirmation_token"])


def _writes(sandbox: Sandbox) -> int:
    counts = sandbox.app.state.request_counts
    return sum(count for method, count in counts.items() if method != "GET")


def _trunk_arguments() -> dict[str, Any]:
    outbound = {"address": "sip.carrier.example", "auth_username": "pbx", "auth_password": SIP_PASSWORD}
    return {"name": "Retried PBX", "outbound": outbound}


def _bytes_under(directory: Path) -> bytes:
    """Every byte of every file under `directory`: what a store kept on disk."""
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


def _assert_repeat_of(repeat: CallToolResult, first: CallToolResult) -> None:
    once, again = data(first), data(repeat)
    assert again["status"] == "done"
    assert again["repeat"] is True
    assert again["message"] == REPEATED + once["message"].removeprefix("Done: ")
    assert again["result"] == once["result"]
    assert "repeat" not in once


@pytest.mark.parametrize("era", ERAS)
async def test_a_confirmed_purchase_repeated_with_its_token_answers_the_first_outcome_and_buys_once(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    number = await _offer(api, sandbox)
    async with connect(make_server(), era) as client:
        token = await _token(client, "purchase_phone_number", {"phone_number": number})
        confirmed = {"phone_number": number, "confirmation_token": token}
        first = await client.call_tool("purchase_phone_number", confirmed)
        writes = _writes(sandbox)
        repeats = [await client.call_tool("purchase_phone_number", confirmed) for _ in range(2)]
    for repeat in repeats:
        _assert_repeat_of(repeat, first)
    assert data(first)["result"]["phone_number"] == number
    assert _writes(sandbox) == writes, "no second purchase reached the API"
    assert json.loads(texts(repeats[0]))["repeat"] is True, "the text the model reads says so too"


@pytest.mark.parametrize("era", ERAS)
async def test_a_repeat_with_the_same_token_but_other_arguments_is_refused_and_changes_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    await api.inbound_routing.create(workflow_id="wf_main", enabled=True)
    async with connect(make_server(), era) as client:
        token = await _token(client, "update_inbound_routing_config", {"enabled": False})
        first = await client.call_tool("update_inbound_routing_config", {"enabled": False, "confirmation_token": token})
        writes = _writes(sandbox)
        other = await client.call_tool("update_inbound_routing_config", {"enabled": True, "confirmation_token": token})
    assert data(first)["status"] == "done"
    assert other.is_error
    assert "arguments differ" in texts(other)
    assert _writes(sandbox) == writes
    assert not (await api.inbound_routing.get()).enabled  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_a_token_whose_first_use_failed_stays_spent(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_server(), era) as client:
        token = await _token(client, "create_trunk", {"name": "Failing PBX"})
        faults = sandbox.app.state.faults
        faults.enabled, faults.error_rate, faults.max_faults = True, 1.0, None  # the read before the write too
        failed = await client.call_tool("create_trunk", {"name": "Failing PBX", "confirmation_token": token})
        faults.enabled = False
        writes = _writes(sandbox)
        repeat = await client.call_tool("create_trunk", {"name": "Failing PBX", "confirmation_token": token})
    assert failed.is_error
    assert "token is spent" in texts(failed)
    assert repeat.is_error
    assert "already used" in texts(repeat)
    assert _writes(sandbox) == writes
    assert "Failing PBX" not in {trunk.name async for trunk in api.trunks.iter()}


STOPPED_AT = ["+12125550131", "+12125550132", "+13125550143"]  # the second delete is refused


async def _stopped_part_way(client: Client, tool: str) -> tuple[dict[str, Any], str]:
    """The confirmed arguments of `tool` deleting STOPPED_AT, and its confirmation token: `apply_changes` through a
    plan, or the bulk tool itself."""
    if tool == "apply_changes":
        plan = data(
            await client.call_tool(
                "plan_changes", {"operations": [{"op": "delete_numbers", "phone_numbers": STOPPED_AT}]}
            )
        )
        return {"plan_id": plan["plan_id"]}, str(plan["confirmation_token"])
    arguments = {"phone_numbers": STOPPED_AT}
    return arguments, await _token(client, tool, arguments)


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("tool", ["apply_changes", "delete_phone_numbers"])
async def test_a_change_set_stopped_by_a_failed_step_repeated_with_its_token_answers_what_ran_and_changes_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str, tool: str
) -> None:
    """The step that failed ended the run, not the token's first use: a client that lost its connection hears the
    same partial report (what ran, what failed, how to undo it), never "already used" nor a second attempt."""
    async with (
        refusing_deletes_of(sandbox, STOPPED_AT[1]) as refusing,
        connect(make_server(client=refusing), era) as client,
    ):
        arguments, token = await _stopped_part_way(client, tool)
        confirmed = {**arguments, "confirmation_token": token}
        first = await client.call_tool(tool, confirmed)
        writes = _writes(sandbox)
        repeats = [await client.call_tool(tool, confirmed) for _ in range(2)]
    once = data(first)
    assert once["status"] == "partial"
    assert (once["result"]["done"], once["result"]["failed"], once["result"]["not_started"]) == (1, 1, 1)
    for repeat in repeats:
        assert not repeat.is_error, texts(repeat)
        again = data(repeat)
        assert (again["status"], again["repeat"]) == ("partial", True)
        assert again["message"].startswith(REPEATED_PART + "Stopped at step 2 of 3")
        assert again["result"] == once["result"]
        assert again["undo_id"] == once["undo_id"] is not None
        assert once["undo_id"] in again["message"], "the repeat says how to undo what ran"
    assert _writes(sandbox) == writes, "nothing reached the API again"
    assert not await in_directory(api, STOPPED_AT[0])
    assert [await in_directory(api, number) for number in STOPPED_AT[1:]] == [True, True]


class HeldWrites:
    """The sandbox, with every write held at the door until the test lets it through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.arrived = anyio.Event()
        self.go = anyio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "GET":
            self.arrived.set()
            await self.go.wait()
        await self.app(scope, receive, send)


@pytest.mark.parametrize("era", ERAS)
async def test_a_repeat_while_the_first_use_still_runs_says_so_and_changes_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    number = await _offer(api, sandbox)
    held = HeldWrites(sandbox.app)
    outcomes: list[CallToolResult] = []
    while_running: CallToolResult | None = None
    async with (
        AnyreachClient(
            "http://sandbox.test", sandbox.seed.demo.api_key, transport=httpx2.ASGITransport(app=held)
        ) as slow_api,
        connect(make_server(client=slow_api), era) as client,
    ):
        token = await _token(client, "purchase_phone_number", {"phone_number": number})
        confirmed = {"phone_number": number, "confirmation_token": token}

        async def first_call() -> None:
            outcomes.append(await client.call_tool("purchase_phone_number", confirmed))

        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as group:
                group.start_soon(first_call)
                await held.arrived.wait()
                while_running = await client.call_tool("purchase_phone_number", confirmed)
                held.go.set()
            after = await client.call_tool("purchase_phone_number", confirmed)
    assert while_running is not None
    assert while_running.is_error
    assert "already runs with this confirmation token" in texts(while_running)
    _assert_repeat_of(after, outcomes[0])
    assert sandbox.app.state.request_counts["POST"] == 1, "one purchase, however often it was repeated"


@pytest.mark.parametrize("era", ERAS)
async def test_a_repeat_reaching_the_other_replica_of_a_shared_token_store_answers_without_storing_the_password(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    store = tmp_path / "used-tokens.db"
    replica = {"confirm_secret": SECRET, "stateless": True, "token_store": store}
    async with connect(make_server(**replica), era) as a, connect(make_server(**replica), era) as b:
        token = await _token(a, "create_trunk", _trunk_arguments())
        confirmed = {**_trunk_arguments(), "confirmation_token": token}
        first = await a.call_tool("create_trunk", confirmed)
        writes = _writes(sandbox)
        repeat = await b.call_tool("create_trunk", confirmed)
    _assert_repeat_of(repeat, first)
    assert _writes(sandbox) == writes
    assert [trunk.name async for trunk in api.trunks.iter()].count("Retried PBX") == 1
    with sqlite3.connect(store) as db:
        (stored,) = db.execute("SELECT outcome FROM token_outcomes").fetchone()
    assert json.loads(stored)["result"] == data(first)["result"]
    assert SIP_PASSWORD.encode() not in _bytes_under(tmp_path)


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.mark.parametrize("era", ERAS)
async def test_a_repeat_reaching_another_replica_through_redis_answers_without_storing_the_password(
    sandbox: Sandbox, redis_server: RedisServer, tmp_path: Path, era: str
) -> None:
    settings = Settings.model_validate(
        {"sandbox": True, "stateless": True, "confirm_secret": SECRET, "redis_url": redis_server.url}
    )
    async with AsyncExitStack() as stack:
        clients: list[Client] = []
        for _ in range(2):
            replica_api = await stack.enter_async_context(sandbox_api(sandbox))
            shared = await stack.enter_async_context(open_shared_state(settings, replica_api.identity))
            server = build_server(settings, replica_api, sandbox=True, shared=shared)
            clients.append(await stack.enter_async_context(connect(server, era)))
        a, b = clients
        token = await _token(a, "create_trunk", _trunk_arguments())
        confirmed = {**_trunk_arguments(), "confirmation_token": token}
        first = await a.call_tool("create_trunk", confirmed)
        writes = _writes(sandbox)
        repeat = await b.call_tool("create_trunk", confirmed)
        redis = connect_redis(redis_server.url)
        stack.push_async_callback(redis.aclose)
        keys = cast(list[str], await redis.keys("*token-outcome:*"))  # pyright: ignore[reportUnknownMemberType]
        values = [str(await redis.get(key)) for key in keys]
    _assert_repeat_of(repeat, first)
    assert _writes(sandbox) == writes
    assert len(values) == 1
    assert json.loads(json.loads(values[0])["outcome"])["result"] == data(first)["result"]
    appended = _bytes_under(tmp_path)
    assert b"token-outcome:" in appended, "Redis appended every write to its file"
    assert SIP_PASSWORD.encode() not in appended


GATED = sorted(spec.name for spec in SPECS if spec.gated and spec.name != "apply_changes")


async def _ready(tool: str, api: AnyreachClient, sandbox: Sandbox) -> dict[str, Any]:
    """Arguments that succeed on the demo organization once confirmed, after setting up what they need."""
    arguments = write_arguments(sandbox)[tool]
    if "routing" in tool and tool.startswith(("update", "delete")):
        await api.inbound_routing.create(workflow_id="wf_main", enabled=True)
    if tool in ("update_trunk", "delete_trunk", "move_phone_numbers"):
        spare = (await api.trunks.create(name="Spare PBX")).id
        arguments = {**arguments, ("to_trunk_id" if tool == "move_phone_numbers" else "trunk_id"): spare}
    if tool == "purchase_phone_number":
        arguments = {"phone_number": await _offer(api, sandbox)}
    return arguments


@pytest.mark.parametrize("tool", GATED)
async def test_every_gated_tool_repeated_with_its_token_answers_the_first_outcome_and_writes_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, tool: str
) -> None:
    arguments = await _ready(tool, api, sandbox)
    async with connect(make_server(), "auto") as client:
        token = await _token(client, tool, arguments)
        first = await client.call_tool(tool, {**arguments, "confirmation_token": token})
        writes = _writes(sandbox)
        repeat = await client.call_tool(tool, {**arguments, "confirmation_token": token})
    _assert_repeat_of(repeat, first)
    assert _writes(sandbox) == writes
