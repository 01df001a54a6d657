"""Scale-out: `--stateless` streamable-HTTP replicas sharing MCP_ANYREACH_CONFIRM_SECRET, the used-token store
(MCP_ANYREACH_TOKEN_STORE) and one backend, as behind a load balancer, their callers signed in with OAuth (a
token is bound to the signed-in caller). A gated call previewed on one replica is confirmed on the other; the
same call repeated with its token, on either, is told the first outcome and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult

from mcp_anyreach.api import AnyreachClient, NotFoundError
from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from tests.reliability.live import CONFIRM_SECRET, LiveSandbox, data, live_sandbox, texts
from tests.server.conftest import sandbox_api
from tests.server.oauth_issuer import SignedInReplica, local_issuer, sign_in_env, signed_in, signed_in_client
from tests.server.procs import spawn, spawn_listening

CALL_TIMEOUT = 30.0
STATELESS = ("--transport", "streamable-http", "--stateless")


@dataclass(frozen=True)
class Replicas:
    live: LiveSandbox
    a: SignedInReplica
    b: SignedInReplica


@pytest.fixture(scope="module")
async def replicas(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Replicas]:
    logs = tmp_path_factory.mktemp("replicas")
    async with live_sandbox() as live, local_issuer() as issuer, AsyncExitStack() as stack:
        shared = live.env(
            ANYREACH_ORG_ID=live.sandbox.seed.demo.org_id,
            MCP_ANYREACH_CONFIRM_SECRET=CONFIRM_SECRET,
            MCP_ANYREACH_TOKEN_STORE=str(logs / "used-tokens.db"),
            **sign_in_env(issuer),
        )
        servers = await spawn_listening(
            stack, spawn(logs / "a.log", *STATELESS, env=shared), spawn(logs / "b.log", *STATELESS, env=shared)
        )
        a, b = signed_in(issuer, servers)
        yield Replicas(live, a, b)


async def call(replica: SignedInReplica, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    """One call on its own connection, as a load balancer would route it (no elicitation: tokens only)."""
    with anyio.fail_after(CALL_TIMEOUT):
        async with signed_in_client(replica) as client:
            return await client.call_tool(tool, arguments)


async def preview(replica: SignedInReplica, tool: str, arguments: dict[str, Any]) -> str:
    outcome = data(await call(replica, tool, arguments))
    assert outcome["status"] == "confirmation_required"
    return str(outcome["confirmation_token"])


async def confirm(replica: SignedInReplica, tool: str, arguments: dict[str, Any], token: str) -> CallToolResult:
    return await call(replica, tool, {**arguments, "confirmation_token": token})


async def owned(sandbox: Sandbox, number: str) -> bool:
    async with sandbox_api(sandbox) as api:
        try:
            await api.phone_numbers.get(number)
        except NotFoundError:
            return False
    return True


async def an_offer(sandbox: Sandbox, area_code: str) -> str:
    async with sandbox_api(sandbox) as api:
        offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code=area_code)
    return offers[0].phone_number


async def test_a_deletion_previewed_on_one_replica_is_confirmed_on_the_other_once(replicas: Replicas) -> None:
    arguments = {"phone_number": "+12125550132"}
    token = await preview(replicas.a, "delete_phone_number", arguments)
    replicas.live.counts.clear()

    done = data(await confirm(replicas.b, "delete_phone_number", arguments, token))
    replay_on_a = await confirm(replicas.a, "delete_phone_number", arguments, token)
    replay_on_b = await confirm(replicas.b, "delete_phone_number", arguments, token)

    assert done["status"] == "done"
    assert data(replay_on_a)["repeat"] is True
    assert data(replay_on_b)["repeat"] is True
    assert replicas.live.counts["DELETE"] == 1
    assert not await owned(replicas.live.sandbox, "+12125550132")


async def test_a_purchase_previewed_on_one_replica_and_confirmed_on_the_other_buys_the_number_once(
    replicas: Replicas,
) -> None:
    number = await an_offer(replicas.live.sandbox, "312")
    arguments = {"phone_number": number}
    token = await preview(replicas.a, "purchase_phone_number", arguments)
    replicas.live.counts.clear()

    done = data(await confirm(replicas.b, "purchase_phone_number", arguments, token))
    replays = [
        await confirm(replica, "purchase_phone_number", arguments, token) for replica in (replicas.a, replicas.b)
    ]

    assert done["status"] == "done"
    assert done["result"]["phone_number"] == number
    assert [data(replay)["result"] for replay in replays] == [done["result"]] * 2, "told the first outcome"
    assert [data(replay)["repeat"] for replay in replays] == [True, True]
    assert replicas.live.counts["POST"] == 1, "one purchase request reached the API"
    assert await owned(replicas.live.sandbox, number)


async def test_a_replica_with_another_secret_refuses_the_token_and_changes_nothing(
    replicas: Replicas, tmp_path: Path
) -> None:
    arguments = {"phone_number": "+13125550143"}
    token = await preview(replicas.a, "delete_phone_number", arguments)
    replicas.live.counts.clear()

    settings = Settings.model_validate(
        {
            "confirm_secret": "another-secret-0123456789abcdefghijklmnop",
            "token": "unused",
            "org_id": replicas.live.sandbox.seed.demo.org_id,
            "token_store": tmp_path / "t.db",
        }
    )
    async with AnyreachClient(replicas.live.base_url, replicas.live.sandbox.seed.demo.api_key) as api:
        stranger = build_server(settings, api)  # same backend over HTTP, another secret
        with anyio.fail_after(CALL_TIMEOUT):
            async with Client(stranger) as client:
                refused = await client.call_tool("delete_phone_number", {**arguments, "confirmation_token": token})

    assert refused.is_error
    assert "not valid" in texts(refused)
    assert set(replicas.live.counts) <= {"GET"}
    assert await owned(replicas.live.sandbox, "+13125550143")


async def test_a_purchase_token_replayed_on_another_replica_after_the_number_was_released_buys_nothing(
    replicas: Replicas,
) -> None:
    number = await an_offer(replicas.live.sandbox, "415")
    arguments = {"phone_number": number}
    token = await preview(replicas.a, "purchase_phone_number", arguments)
    assert data(await confirm(replicas.b, "purchase_phone_number", arguments, token))["status"] == "done"
    release = await preview(replicas.b, "delete_phone_number", arguments)
    assert data(await confirm(replicas.b, "delete_phone_number", arguments, release))["status"] == "done"
    replicas.live.counts.clear()

    replay = await confirm(replicas.a, "purchase_phone_number", arguments, token)

    assert data(replay)["repeat"] is True, "told the first purchase's outcome, not bought again"
    assert replicas.live.counts["POST"] == 0
