"""Replicas as users run them: `mcp-anyreach --stateless` subprocesses sharing Redis, on a sandbox served over
HTTP, reached one call per connection as through a round-robin load balancer, by one signed-in caller. One is
killed (SIGKILL) in the middle of a purchase."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp_types import CallToolResult
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.reliability.live import CONFIRM_SECRET, LiveSandbox, live_sandbox, texts
from tests.reliability.test_scale_out import owned
from tests.server.conftest import sandbox_api
from tests.server.oauth_issuer import SignedInReplica, local_issuer, sign_in_env, signed_in, signed_in_client
from tests.server.procs import spawn, spawn_listening
from tests.shared_state.redis_server import RedisServer

STATELESS = ("--transport", "streamable-http", "--stateless")
BUDGET = 5
PURCHASES = 15
CALL_TIMEOUT = 60.0
HOLD_TIMEOUT = 30.0


@dataclass
class PurchaseHold:
    """In front of the sandbox: holds the next purchase request until released, and says when it arrived."""

    holding: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def held(scope: Scope, receive: Receive, send: Send) -> None:
            purchase = scope["type"] == "http" and scope["path"].endswith("/purchase-number")
            if not (purchase and self.holding):
                await app(scope, receive, send)
                return
            self.holding = False
            body = [await receive()]  # the whole request arrives before the replica dies
            while body[-1].get("more_body"):
                body.append(await receive())
            self.arrived.set()
            await anyio.to_thread.run_sync(self.released.wait, HOLD_TIMEOUT)

            async def replay() -> Message:
                return body.pop(0) if body else {"type": "http.disconnect"}

            try:
                await app(scope, replay, send)  # applied; the answer goes nowhere
            finally:
                self.finished.set()

        return held


@dataclass
class Deployment:
    live: LiveSandbox
    replicas: list[SignedInReplica]
    hold: PurchaseHold


@asynccontextmanager
async def deployment(logs: Path, redis: RedisServer, replicas: int) -> AsyncIterator[Deployment]:
    """The sandbox (with the hold in front) and `replicas` servers sharing Redis, until the block ends."""
    hold = PurchaseHold()
    async with live_sandbox(wrap=hold.wrap) as live, local_issuer() as issuer, AsyncExitStack() as stack:
        env = live.env(
            ANYREACH_ORG_ID=live.sandbox.seed.demo.org_id,
            MCP_ANYREACH_CONFIRM_SECRET=CONFIRM_SECRET,
            MCP_ANYREACH_REDIS_URL=redis.url,
            MCP_ANYREACH_MAX_PURCHASES=str(BUDGET),
            **sign_in_env(issuer),
        )
        launches = [spawn(logs / f"replica-{n}.log", *STATELESS, env=env) for n in range(replicas)]
        yield Deployment(live, signed_in(issuer, await spawn_listening(stack, *launches)), hold)


async def call(replica: SignedInReplica, tool: str, arguments: dict[str, Any], era: str = "auto") -> CallToolResult:
    """One call on its own connection, as a load balancer routes it."""
    with anyio.fail_after(CALL_TIMEOUT):
        async with signed_in_client(replica, era) as client:
            return await client.call_tool(tool, arguments)


def outcome(result: CallToolResult) -> str:
    """done, repeat (the first outcome told again), confirmation_required, or the kind of refusal."""
    if not result.is_error:
        content = result.structured_content or {}
        return "repeat" if content.get("repeat") else str(content["status"])
    text = texts(result)
    kinds = ("already used", "purchase limit", "not offered", "already runs")
    return next((kind for kind in kinds if kind in text), text)


async def preview(replica: SignedInReplica, number: str) -> str:
    result = await call(replica, "purchase_phone_number", {"phone_number": number})
    assert outcome(result) == "confirmation_required", texts(result)
    return str((result.structured_content or {})["confirmation_token"])


async def offered(live: LiveSandbox, count: int) -> list[str]:
    async with sandbox_api(live.sandbox) as api:
        found = await api.managed_accounts.search_numbers(live.sandbox.seed.demo.managed_account_id, limit=count)
    return [offer.phone_number for offer in found]


async def test_three_replicas_behind_round_robin_buy_exactly_the_budget_and_use_each_token_once(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with deployment(tmp_path, redis_server, replicas=3) as team:
        numbers = await offered(team.live, PURCHASES)
        tokens = [await preview(team.replicas[turn % 3], number) for turn, number in enumerate(numbers)]
        team.live.counts.clear()
        outcomes: dict[str, list[str]] = {number: [] for number in numbers}

        async def confirm(turn: int, number: str, token: str, era: str) -> None:
            arguments = {"phone_number": number, "confirmation_token": token}
            outcomes[number].append(
                outcome(await call(team.replicas[turn % 3], "purchase_phone_number", arguments, era))
            )

        async with anyio.create_task_group() as group:  # each token on the two other replicas, one per era
            for turn, (number, token) in enumerate(zip(numbers, tokens, strict=True)):
                group.start_soon(confirm, turn + 1, number, token, "auto")
                group.start_soon(confirm, turn + 2, number, token, "legacy")
        bought = [number for number in numbers if await owned(team.live.sandbox, number)]

    assert all(seen.count("done") <= 1 for seen in outcomes.values()), outcomes
    assert {kind for seen in outcomes.values() for kind in seen} <= {
        "done",
        "repeat",
        "already runs",
        "already used",
        "purchase limit",
        "not offered",
    }
    assert sum(seen.count("done") for seen in outcomes.values()) == BUDGET
    assert team.live.counts["POST"] == BUDGET
    assert len(bought) == BUDGET


async def test_a_replica_killed_in_the_middle_of_a_purchase_never_lets_the_number_be_bought_twice(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with deployment(tmp_path, redis_server, replicas=2) as team:
        doomed, survivor = team.replicas
        number, another = await offered(team.live, 2)
        token = await preview(doomed, number)
        arguments = {"phone_number": number, "confirmation_token": token}
        team.live.counts.clear()
        team.hold.holding = True
        lost: list[BaseException] = []

        async def confirm_on_the_doomed_replica() -> None:
            try:
                await call(doomed, "purchase_phone_number", arguments)
            except Exception as exc:  # its connection dies with it
                lost.append(exc)

        async with anyio.create_task_group() as group:
            group.start_soon(confirm_on_the_doomed_replica)
            assert await anyio.to_thread.run_sync(team.hold.arrived.wait, HOLD_TIMEOUT), "the purchase reached the API"
            doomed.process.kill()  # SIGKILL: no clean-up of any kind
            await doomed.process.wait()
            team.hold.released.set()
            assert await anyio.to_thread.run_sync(team.hold.finished.wait, HOLD_TIMEOUT)

        retry = outcome(await call(survivor, "purchase_phone_number", arguments))
        bought = await owned(team.live.sandbox, number)
        async with sandbox_api(team.live.sandbox) as api:
            await api.phone_numbers.delete(number)  # offered again, so the state looks as it did at preview
        retry_once_released = outcome(await call(survivor, "purchase_phone_number", arguments))
        other_purchase = await call(survivor, "purchase_phone_number", {"phone_number": another})

    assert lost, "the client of the killed replica got no answer"
    assert bought, "the API applied the purchase the killed replica sent"
    # Its first use never recorded how it ended: a repeat is told so and sends nothing, even once the number is
    # on offer again.
    assert retry == "already runs"
    assert retry_once_released == "already runs"
    assert team.live.counts["POST"] == 1
    # The killed replica's purchase still counts against the budget: it errs towards buying less.
    assert outcome(other_purchase) == "confirmation_required"
    assert f"Purchases left after this one: {BUDGET - 2}" in texts(other_purchase)
