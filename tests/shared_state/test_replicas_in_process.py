"""Three replicas sharing Redis behind round-robin, in this process: 200 gated purchases at once in both
protocol eras, and Redis stopped mid-run. Every replica is a real server on the real sandbox; only the
HTTP hop between a load balancer and the replicas is left out (test_replicas_subprocess.py has it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult

from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from mcp_anyreach.shared_state import open_shared_state
from tests.server.conftest import connect, sandbox_api
from tests.shared_state.redis_server import RedisServer

REPLICAS = 3
OPERATIONS = 200
BUDGET = 60
AREA_CODES = ("312", "512", "206", "617", "305", "404", "303")
TIMEOUT = 120.0
DEMO_NUMBER = "+12125550132"  # owned by the demo organization


@dataclass
class Cluster:
    sandbox: Sandbox
    clients: list[Client]

    def replica(self, turn: int) -> Client:
        """Round-robin, as a load balancer would route one call after another."""
        return self.clients[turn % len(self.clients)]

    @property
    def purchase_requests(self) -> int:
        return self.sandbox.app.state.request_counts["POST"]


@pytest.fixture
async def cluster(redis_server: RedisServer, era: str) -> AsyncIterator[Cluster]:
    sandbox = open_sandbox(":memory:", number_limit=1000)
    settings = Settings.model_validate(
        {
            "sandbox": True,
            "stateless": True,
            "confirm_secret": "replicas-share-this-secret-0123456789abcdef",
            "redis_url": redis_server.url,
            "max_purchases": BUDGET,
        }
    )
    async with AsyncExitStack() as stack:
        clients: list[Client] = []
        for _ in range(REPLICAS):
            api = await stack.enter_async_context(sandbox_api(sandbox))
            shared = await stack.enter_async_context(open_shared_state(settings, api.identity))
            server = build_server(settings, api, sandbox=True, shared=shared)
            clients.append(await stack.enter_async_context(connect(server, era)))
        yield Cluster(sandbox, clients)


def outcome(result: CallToolResult) -> str:
    """done, repeat (the first outcome told again), confirmation_required, or the kind of refusal the model was
    told about."""
    if not result.is_error:
        content = result.structured_content or {}
        return "repeat" if content.get("repeat") else str(content["status"])
    text = " ".join(getattr(block, "text", "") for block in result.content)
    kinds = ("already used", "purchase limit", "not offered", "nothing was done", "nothing was bought", "already runs")
    for kind in kinds:
        if kind in text:
            return kind
    raise AssertionError(f"unexpected error: {text}")


async def offered_numbers(cluster: Cluster, count: int) -> list[str]:
    numbers: list[str] = []
    for turn, area_code in enumerate(AREA_CODES):
        found = await cluster.replica(turn).call_tool("search_available_numbers", {"area_code": area_code, "limit": 50})
        numbers += [offer["phone_number"] for offer in (found.structured_content or {})["items"]]
    assert len(numbers) >= count
    return numbers[:count]


async def previews(cluster: Cluster, numbers: list[str]) -> dict[str, str]:
    """Each purchase previewed on the next replica in turn, all at once: number -> confirmation token."""
    tokens: dict[str, str] = {}

    async def preview(turn: int, number: str) -> None:
        result = await cluster.replica(turn).call_tool("purchase_phone_number", {"phone_number": number})
        assert outcome(result) == "confirmation_required"
        tokens[number] = (result.structured_content or {})["confirmation_token"]

    async with anyio.create_task_group() as group:
        for turn, number in enumerate(numbers):
            group.start_soon(preview, turn, number)
    return tokens


async def confirm(cluster: Cluster, turn: int, number: str, token: str) -> str:
    arguments: dict[str, Any] = {"phone_number": number, "confirmation_token": token}
    return outcome(await cluster.replica(turn).call_tool("purchase_phone_number", arguments))


async def owned(sandbox: Sandbox, numbers: list[str]) -> set[str]:
    async with sandbox_api(sandbox) as api:
        return {item.phone_number async for item in api.phone_numbers.iter()} & set(numbers)


async def release(sandbox: Sandbox, numbers: list[str]) -> None:
    async with sandbox_api(sandbox) as api:
        for number in numbers:
            await api.phone_numbers.delete(number)


async def test_200_purchases_confirmed_twice_at_once_across_replicas_use_each_token_once_and_the_budget_exactly(
    cluster: Cluster,
) -> None:
    with anyio.fail_after(TIMEOUT):
        numbers = await offered_numbers(cluster, OPERATIONS)
        tokens = await previews(cluster, numbers)
        outcomes: dict[str, list[str]] = {number: [] for number in numbers}

        async def confirm_on(turn: int, number: str) -> None:
            outcomes[number].append(await confirm(cluster, turn, number, tokens[number]))

        async with anyio.create_task_group() as group:
            for turn, number in enumerate(numbers):  # the same token on the two other replicas, at once
                group.start_soon(confirm_on, turn + 1, number)
                group.start_soon(confirm_on, turn + 2, number)

    # A second call may stop before its token is even looked at (the budget is spent, or the number is
    # bought and so no longer offered), find the first still running, or be told its outcome again: never a
    # second "done".
    assert all(seen.count("done") <= 1 for seen in outcomes.values())
    assert {kind for seen in outcomes.values() for kind in seen} <= {
        "done",
        "repeat",
        "already runs",
        "already used",
        "purchase limit",
        "not offered",
    }
    assert sum(seen.count("done") for seen in outcomes.values()) == BUDGET
    assert cluster.purchase_requests == BUDGET
    assert len(await owned(cluster.sandbox, numbers)) == BUDGET


async def test_with_redis_stopped_mid_run_nothing_is_written_without_a_recorded_token_and_all_recovers(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    with anyio.fail_after(TIMEOUT):
        numbers = await offered_numbers(cluster, 30)
        tokens = await previews(cluster, numbers)
        deletion = {"phone_number": DEMO_NUMBER}
        deletion_preview = await cluster.replica(1).call_tool("delete_phone_number", deletion)
        deletion |= {"confirmation_token": (deletion_preview.structured_content or {})["confirmation_token"]}
        first: dict[str, str] = {}
        stopped = anyio.Event()

        async def confirm_in_turn() -> None:
            for turn, number in enumerate(numbers):
                first[number] = await confirm(cluster, turn + 1, number, tokens[number])
                if turn == 9:
                    await redis_server.stop()
                    stopped.set()

        async def read_while_redis_is_away() -> CallToolResult:
            await stopped.wait()
            return await cluster.replica(0).call_tool("list_phone_numbers", {"limit": 5})

        async with anyio.create_task_group() as group:
            group.start_soon(confirm_in_turn)
            read = await read_while_redis_is_away()
            deletion_while_away = outcome(await cluster.replica(2).call_tool("delete_phone_number", deletion))
        bought_before_restart = await owned(cluster.sandbox, numbers)

        await redis_server.start()
        retried = {
            number: await confirm(cluster, 0, number, tokens[number]) for number in numbers if first[number] != "done"
        }
        bought = await owned(cluster.sandbox, numbers)
        await release(cluster.sandbox, numbers)  # offered again: only the record of used tokens stops a replay
        replays = {number: await confirm(cluster, 2, number, tokens[number]) for number in numbers}
        deletion_after = outcome(await cluster.replica(0).call_tool("delete_phone_number", deletion))

    assert Counter(first.values()) == {"done": 10, "nothing was bought": 20}, "refused while Redis was away"
    assert deletion_while_away == "nothing was done"
    assert deletion_after == "done"
    assert bought_before_restart == {number for number, seen in first.items() if seen == "done"}
    assert not read.is_error, "reads need no Redis"
    assert set(retried.values()) == {"done"}, "a refused token was still unused once Redis was back"
    assert set(replays.values()) == {"repeat"}, "every write's token was recorded with its outcome, across the restart"
    assert bought == set(numbers)
    assert cluster.purchase_requests == len(numbers)
