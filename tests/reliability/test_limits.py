"""Bounded inputs and outputs, sessions that cannot be exhausted, and configuration mistakes that are loud."""

from __future__ import annotations

import contextlib
import subprocess
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client

from mcp_anyreach.api import AnyreachClient
from tests.reliability.live import data, texts
from tests.server.conftest import ServerFactory, api, connect, make_server, sandbox
from tests.server.procs import SERVER_COMMAND, server_env, spawn, spawn_listening

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "flood", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


# 9. Bounded inputs and outputs.


async def test_a_workflow_definition_over_64_kib_is_refused_and_nothing_is_stored(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    huge = {"steps": ["x" * 1000] * 70}
    async with connect(make_server(no_confirm=True), "auto") as client:
        result = await client.call_tool("create_inbound_routing_config", {"workflow_definition": huge})
    assert result.is_error
    assert "65,536" in texts(result)
    assert await api.inbound_routing.get() is None


async def test_a_large_workflow_already_stored_is_clipped_in_results_and_whole_in_the_resource(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    definition = {"steps": ["route to support"] * 20_000}
    await api.inbound_routing.create(workflow_definition=definition)
    async with connect(make_server(), "auto") as client:
        shown = data(await client.call_tool("get_inbound_routing_config", {}))
        whole = await client.read_resource("anyreach://inbound-routing-config")
    clipped = shown["config"]["workflow_definition"]
    assert "anyreach://inbound-routing-config" in clipped["clipped"]
    assert len(str(shown)) < 8_000
    assert "route to support" in whole.contents[0].text  # type: ignore[union-attr]
    assert len(whole.contents[0].text) > 300_000  # type: ignore[union-attr]


# 10. Sessions cannot be exhausted.


async def _open_session(http: httpx2.AsyncClient, url: str) -> str:
    response = await http.post(url, json=INITIALIZE, headers=MCP_HEADERS)
    assert response.status_code == 200, response.text
    return response.headers["mcp-session-id"]


async def test_a_flood_of_idle_sessions_evicts_the_oldest_and_a_new_client_still_gets_in(tmp_path: Path) -> None:
    env = server_env(MCP_ANYREACH_MAX_SESSIONS="10")
    async with AsyncExitStack() as stack:
        [server] = await spawn_listening(stack, spawn(tmp_path / "http.log", "--transport", "streamable-http", env=env))
        async with httpx2.AsyncClient(timeout=20) as http:
            flood = [await _open_session(http, server.url()) for _ in range(30)]
            oldest = await http.post(
                server.url(),
                json={"jsonrpc": "2.0", "id": 2, "method": "ping"},
                headers=MCP_HEADERS | {"mcp-session-id": flood[0]},
            )
        with anyio.fail_after(30):
            async with Client(server.url(), mode="legacy") as client:
                tools = await client.list_tools()
    assert oldest.status_code == 404, "the oldest idle session made room"
    assert tools.tools


async def test_a_flood_of_held_sse_streams_evicts_the_oldest_and_a_new_client_still_gets_in(tmp_path: Path) -> None:
    env = server_env(MCP_ANYREACH_MAX_SESSIONS="5")
    async with AsyncExitStack() as stack:
        [server] = await spawn_listening(stack, spawn(tmp_path / "sse.log", "--transport", "sse", env=env))
        held: list[Any] = []
        async with httpx2.AsyncClient(timeout=20) as http:
            for _ in range(12):
                stream = await stack.enter_async_context(http.stream("GET", server.url("/sse")))
                assert stream.status_code == 200
                held.append(stream)
            with anyio.fail_after(30):
                async with Client(sse_client(server.url("/sse")), mode="legacy") as client:
                    tools = await client.list_tools()
                with contextlib.suppress(httpx2.RemoteProtocolError):  # the oldest idle stream is closed
                    async for _ in held[0].aiter_bytes():
                        pass
    assert tools.tools


async def test_an_sse_stream_refused_for_its_host_at_the_cap_closes_no_held_stream(tmp_path: Path) -> None:
    env = server_env(MCP_ANYREACH_MAX_SESSIONS="1")
    async with AsyncExitStack() as stack:
        [server] = await spawn_listening(stack, spawn(tmp_path / "sse.log", "--transport", "sse", env=env))
        async with httpx2.AsyncClient(timeout=20) as http:
            held = await stack.enter_async_context(http.stream("GET", server.url("/sse")))
            lines = held.aiter_lines()  # kept: dropping the iterator would close the stream
            with anyio.fail_after(20):
                endpoint = await anext(lines)
                while not endpoint.startswith("data: "):
                    endpoint = await anext(lines)
            async with httpx2.AsyncClient(timeout=20) as other:
                forged = await other.get(server.url("/sse"), headers={"Host": "evil.example"})
            async with httpx2.AsyncClient(timeout=20) as other:
                ping = {"jsonrpc": "2.0", "method": "notifications/initialized"}
                still_open = await other.post(server.url(endpoint.removeprefix("data: ")), json=ping)
    assert forged.status_code == 421
    assert still_open.status_code == 202, "the held stream was closed to make room for a request then refused"


async def test_a_get_that_asks_to_resume_a_stream_gets_a_clean_400(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        [server] = await spawn_listening(stack, spawn(tmp_path / "http.log", "--transport", "streamable-http"))
        async with httpx2.AsyncClient(timeout=20) as http:
            session = await _open_session(http, server.url())
            resumed = await http.get(
                server.url(),
                headers={"Accept": "text/event-stream", "mcp-session-id": session, "Last-Event-ID": "1"},
            )
    assert resumed.status_code == 400
    assert "Last-Event-ID" in resumed.text


# 11. Configuration mistakes are loud.


def _serve(*flags: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*SERVER_COMMAND, "--db", ":memory:", *flags],
        env=server_env(**env),
        capture_output=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_a_misspelt_variable_stops_start_up_with_a_did_you_mean() -> None:
    completed = _serve(MCP_ANYREACH_READONLY="1")
    assert completed.returncode == 1
    assert b"MCP_ANYREACH_READONLY (did you mean MCP_ANYREACH_READ_ONLY?)" in completed.stderr


def test_a_short_http_token_stops_start_up_saying_how_long_it_must_be() -> None:
    completed = _serve("--transport", "streamable-http", MCP_ANYREACH_HTTP_TOKEN="short-token")
    assert completed.returncode == 1
    assert b"at least 32 characters" in completed.stderr
    assert b"short-token" not in completed.stderr


def test_a_short_confirmation_secret_stops_start_up_saying_how_long_it_must_be(tmp_path: Path) -> None:
    # A 3-character secret was found offline from one token; a forged token then deleted a number.
    completed = _serve(
        MCP_ANYREACH_CONFIRM_SECRET="abc-weak", MCP_ANYREACH_TOKEN_STORE=str(tmp_path / "used-tokens.db")
    )
    assert completed.returncode == 1
    assert b"MCP_ANYREACH_CONFIRM_SECRET must be at least 32 characters" in completed.stderr
    assert b"abc-weak" not in completed.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("MCP_ANYREACH_REDIS_URL", "redis://127.0.0.1:1/0"), ("MCP_ANYREACH_TOKEN_STORE", "used-tokens.db")],
    ids=["redis", "token-store"],
)
def test_a_shared_store_without_the_organization_id_stops_start_up_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    # An ak_ key does not tell the server its organization, and the shared budget is the organization's.
    shared = value if "://" in value else str(tmp_path / value)
    completed = _serve(ANYREACH_TOKEN="ak_of_one_replica", **{variable: shared})
    assert completed.returncode == 1
    assert f"ANYREACH_ORG_ID is required with {variable}".encode() in completed.stderr
    assert b"ak_of_one_replica" not in completed.stderr


@pytest.mark.parametrize("era", ["auto", "legacy"])
async def test_a_read_only_server_offers_no_prompt_that_would_buy_or_change_things(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(read_only=True), era) as client:
        prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
    assert prompts == {"audit_telephony"}
