"""Read-only holds on every transport: a `--read-only` server with a real token, over stdio, SSE and streamable
HTTP, lets no request but GET reach the API (the live sandbox counts them), whatever the client sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.cli.backend import connect
from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.server.registry import SPEC_BY_NAME
from mcp_anyreach.settings import Settings
from tests.reliability.live import LiveSandbox, live_sandbox, only_gets
from tests.server.conftest import READ_TOOLS, write_arguments
from tests.server.procs import SERVER_COMMAND, RunningServer, spawn, spawn_listening

SESSION_TIMEOUT = 60.0


@dataclass(frozen=True)
class ReadOnlyServers:
    live: LiveSandbox
    sse: RunningServer
    streamable_http: RunningServer
    logs: Path


@pytest.fixture(scope="module")
async def servers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ReadOnlyServers]:
    logs = tmp_path_factory.mktemp("read-only")
    async with live_sandbox() as live, AsyncExitStack() as stack:
        sse, http = await spawn_listening(
            stack,
            spawn(logs / "sse.log", "--transport", "sse", "--read-only", env=live.env()),
            spawn(logs / "http.log", "--transport", "streamable-http", "--read-only", env=live.env()),
        )
        yield ReadOnlyServers(live, sse, http, logs)


def write_attempts(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """Arguments that would change something on a writable server, with a (forged) token on gated tools."""
    forged = {"confirmation_token": "ct1.e30.forged"}
    return {
        tool: {**arguments, **(forged if SPEC_BY_NAME[tool].gated else {})}
        for tool, arguments in write_arguments(sandbox).items()
    }


async def try_everything(client: Client, sandbox: Sandbox) -> None:
    """List, read every read tool and resource, and try every write tool: the writes must all fail."""
    demo = sandbox.seed.demo
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == READ_TOOLS
    for tool, arguments in [
        ("list_phone_numbers", {"limit": 5}),
        ("get_phone_number", {"phone_number": "+12125550132"}),
        ("list_trunks", {}),
        ("get_trunk", {"trunk_id": demo.byoc_trunk_id}),
        ("get_inbound_routing_config", {}),
        ("search_available_numbers", {"area_code": "415", "limit": 2}),
        ("audit_inventory", {}),
    ]:
        result = await client.call_tool(tool, arguments)
        assert not result.is_error, (tool, result.content)
    for resource in (await client.list_resources()).resources:
        await client.read_resource(str(resource.uri))
    for tool, arguments in write_attempts(sandbox).items():
        try:
            refused = (await client.call_tool(tool, arguments)).is_error
        except MCPError:
            refused = True
        assert refused, f"{tool} was accepted by a read-only server"


async def assert_only_gets_after(live: LiveSandbox, client: Client) -> None:
    live.counts.clear()
    with anyio.fail_after(SESSION_TIMEOUT):
        async with client:
            await try_everything(client, live.sandbox)
    assert live.counts["GET"] > 0, "the reads reached the sandbox"
    assert only_gets(live.counts), dict(live.counts)


async def test_over_stdio_a_read_only_server_sends_the_api_nothing_but_get(
    servers: ReadOnlyServers, tmp_path: Path
) -> None:
    env = servers.live.env()
    params = StdioServerParameters(command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:], "--read-only"], env=env)
    with (tmp_path / "stderr.log").open("w") as errlog:
        await assert_only_gets_after(servers.live, Client(stdio_client(params, errlog=errlog)))


async def test_over_sse_a_read_only_server_sends_the_api_nothing_but_get(servers: ReadOnlyServers) -> None:
    await assert_only_gets_after(servers.live, Client(sse_client(servers.sse.url("/sse")), mode="legacy"))


@pytest.mark.parametrize("era", ["auto", "legacy"])
async def test_over_streamable_http_a_read_only_server_sends_the_api_nothing_but_get(
    servers: ReadOnlyServers, era: str
) -> None:
    await assert_only_gets_after(servers.live, Client(servers.streamable_http.url(), mode=era))  # type: ignore[arg-type]


async def test_raw_json_rpc_write_calls_over_http_reach_the_api_as_nothing_but_get(servers: ReadOnlyServers) -> None:
    """A client that skips the SDK and posts tools/call for every write tool straight into a session."""
    servers.live.counts.clear()
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }
    with anyio.fail_after(SESSION_TIMEOUT):
        async with httpx2.AsyncClient(headers=headers, timeout=30.0) as http:
            url = servers.streamable_http.url()
            opened = await http.post(url, json=init)
            session = {"Mcp-Session-Id": opened.headers["mcp-session-id"]}
            await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
            for index, (tool, arguments) in enumerate(write_attempts(servers.live.sandbox).items(), start=1):
                call = {
                    "jsonrpc": "2.0",
                    "id": index,
                    "method": "tools/call",
                    "params": {"name": tool, "arguments": arguments},
                }
                answer = await http.post(url, json=call, headers=session)
                assert answer.status_code == 200
                assert '"isError":true' in answer.text or '"error"' in answer.text, (tool, answer.text)

    assert only_gets(servers.live.counts), dict(servers.live.counts)


async def test_a_read_only_server_with_a_token_gets_a_read_only_api_client() -> None:
    settings = Settings.model_validate(
        {"token": "ak_read_only_check", "read_only": True, "base_url": "http://x.invalid"}
    )

    async with connect(settings) as client:
        assert client.read_only


async def test_build_server_refuses_read_only_settings_with_a_writable_client() -> None:
    settings = Settings.model_validate({"token": "ak_read_only_check", "read_only": True})
    async with AnyreachClient("http://x.invalid", "ak_read_only_check") as writable:
        with pytest.raises(ValueError, match="read-only"):
            build_server(settings, writable)
