"""The server as users run it: a real subprocess on the embedded sandbox, over stdio, streamable HTTP and SSE,
reached with the SDK's own clients, and the HTTP guards (Host, Origin, bearer token) seen from outside."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from mcp_anyreach.sandbox import open_sandbox
from mcp_anyreach.server.registry import SPECS
from tests.server.conftest import READ_TOOLS
from tests.server.procs import (
    SERVER_COMMAND,
    RunningServer,
    announced_url,
    server_env,
    spawn,
    spawn_listening,
    wait_until_listening,
)

ALL_TOOLS = {spec.name for spec in SPECS}
WRITE_PREFIXES = ("purchase_", "delete_", "create_", "update_", "assign_", "register_")
HTTP_TOKEN = "secret-xyz-0123456789-abcdefghijklmn"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (listening beyond loopback is what these tests are about)
CLIENT_TIMEOUT = httpx2.Timeout(30.0, read=300.0)
SESSION_TIMEOUT = 60.0
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}},
}
MCP_POST_HEADERS = {"Accept": "application/json, text/event-stream"}


@dataclass(frozen=True)
class HttpServers:
    loopback: RunningServer
    stateless: RunningServer
    sse: RunningServer
    token_on_all_interfaces: RunningServer
    token_on_loopback: RunningServer


@pytest.fixture(scope="module")
async def servers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[HttpServers]:
    """Every HTTP server this module needs, started together (imports dominate start-up) and stopped at the end."""
    logs = tmp_path_factory.mktemp("servers")
    token = server_env(MCP_ANYREACH_HTTP_TOKEN=HTTP_TOKEN)
    async with AsyncExitStack() as stack:
        yield HttpServers(
            *await spawn_listening(
                stack,
                spawn(logs / "loopback.log", "--transport", "streamable-http"),
                spawn(logs / "stateless.log", "--transport", "streamable-http", "--stateless"),
                spawn(logs / "sse.log", "--transport", "sse"),
                spawn(
                    logs / "all-interfaces.log",
                    "--transport",
                    "streamable-http",
                    "--host",
                    ALL_INTERFACES,
                    env=token | {"MCP_ANYREACH_ALLOWED_HOSTS": "127.0.0.1:*,localhost:*"},
                ),
                spawn(logs / "token-loopback.log", "--transport", "streamable-http", "--host", "127.0.0.1", env=token),
            )
        )


def assert_lists_phone_numbers(result: CallToolResult) -> None:
    assert result.is_error is False
    listing = result.structured_content
    assert listing is not None
    assert set(listing) == {"items", "next_cursor", "warning"}
    assert listing["warning"] is None
    assert listing["items"], "the sandbox's demo organization has numbers"
    assert all(item["phone_number"].startswith("+") for item in listing["items"])


async def list_and_read(client: Client) -> set[str]:
    """The names of the listed tools, after checking that a read tool answers with structured content."""
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert_lists_phone_numbers(await client.call_tool("list_phone_numbers", {"limit": 2}))
    return names


async def post_initialize(url: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=CLIENT_TIMEOUT) as http:
        return await http.post(url, json=INITIALIZE, headers=MCP_POST_HEADERS | (headers or {}))


# stdio


async def stdio_session(log: Path, era: str, *flags: str) -> set[str]:
    """Spawn the stdio server with `flags`, its stderr into `log`; list tools and read through it in `era`."""
    params = StdioServerParameters(
        command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:], "--db", ":memory:", *flags], env=server_env()
    )
    with log.open("w") as errlog, anyio.fail_after(SESSION_TIMEOUT):
        async with Client(stdio_client(params, errlog=errlog), mode=era) as client:
            return await list_and_read(client)


async def test_the_stdio_server_lists_every_tool_and_answers_a_read_with_structured_content(
    era: str, tmp_path: Path
) -> None:
    names = await stdio_session(tmp_path / "stderr.log", era)

    assert names == ALL_TOOLS
    assert {"list_phone_numbers", "purchase_phone_number", "audit_inventory"} <= names
    assert "sandbox" in (tmp_path / "stderr.log").read_text(), "it says on stderr, not stdout, that it runs the sandbox"


async def test_the_read_only_stdio_server_lists_only_read_tools(tmp_path: Path) -> None:
    names = await stdio_session(tmp_path / "stderr.log", "auto", "--read-only")

    assert names == READ_TOOLS
    assert {"list_phone_numbers", "audit_inventory"} <= names
    assert not [name for name in names if name.startswith(WRITE_PREFIXES)]


async def test_help_exits_zero_and_names_the_commands() -> None:
    with anyio.fail_after(SESSION_TIMEOUT):
        completed = await anyio.run_process([*SERVER_COMMAND, "--help"], env=server_env(), check=False)

    assert completed.returncode == 0
    assert completed.stdout.startswith(b"usage: mcp-anyreach")
    assert b"serve" in completed.stdout


# the URL a server started with --port 0 logs


async def test_a_server_on_port_0_logs_the_full_url_it_bound_for_its_transport(servers: HttpServers) -> None:
    streamable, sse = announced_url(servers.loopback.output()), announced_url(servers.sse.output())

    assert streamable == servers.loopback.url("/mcp")
    assert sse == servers.sse.url("/sse")
    assert servers.loopback.port != servers.sse.port
    assert "serving streamable-http on http://127.0.0.1:" in servers.loopback.output()


# streamable HTTP on loopback


async def test_a_streamable_http_client_lists_tools_and_reads_on_loopback(servers: HttpServers, era: str) -> None:
    with anyio.fail_after(SESSION_TIMEOUT):
        async with Client(servers.loopback.url(), mode=era) as client:
            names = await list_and_read(client)

    assert names == ALL_TOOLS


async def test_a_foreign_host_header_is_refused_with_421(servers: HttpServers) -> None:
    url = servers.loopback.url()

    assert (await post_initialize(url)).status_code == 200
    assert (await post_initialize(url, {"Host": "evil.example"})).status_code == 421


async def test_a_foreign_origin_is_refused_with_403(servers: HttpServers) -> None:
    url = servers.loopback.url()

    assert (await post_initialize(url, {"Origin": f"http://127.0.0.1:{servers.loopback.port}"})).status_code == 200
    assert (await post_initialize(url, {"Origin": "http://evil.example"})).status_code == 403


async def test_a_stateless_server_lists_tools_and_reads(servers: HttpServers, era: str) -> None:
    with anyio.fail_after(SESSION_TIMEOUT):
        async with Client(servers.stateless.url(), mode=era) as client:
            names = await list_and_read(client)

    assert names == ALL_TOOLS


# SSE


async def test_an_sse_client_lists_tools_and_reads_on_loopback(servers: HttpServers) -> None:
    with anyio.fail_after(SESSION_TIMEOUT):
        async with Client(sse_client(servers.sse.url("/sse")), mode="legacy") as client:
            names = await list_and_read(client)

    assert names == ALL_TOOLS


# beyond loopback: a bearer token


async def test_listening_on_all_interfaces_without_an_http_token_exits_naming_the_variable() -> None:
    command = [
        *SERVER_COMMAND,
        "--transport",
        "streamable-http",
        "--host",
        ALL_INTERFACES,
        "--port",
        "0",
        "--db",
        ":memory:",
    ]
    with anyio.fail_after(SESSION_TIMEOUT):
        completed = await anyio.run_process(command, env=server_env(), stdin=subprocess.DEVNULL, check=False)

    assert completed.returncode != 0
    assert b"MCP_ANYREACH_HTTP_TOKEN" in completed.stderr
    assert completed.stdout == b""


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", HTTP_TOKEN], ids=["none", "wrong", "bare"])
async def test_off_loopback_a_request_without_the_right_bearer_token_gets_401(
    servers: HttpServers, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await post_initialize(servers.token_on_all_interfaces.url(), headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_off_loopback_the_sdk_client_with_the_bearer_token_lists_tools(servers: HttpServers, era: str) -> None:
    headers = {"Authorization": f"Bearer {HTTP_TOKEN}"}
    with anyio.fail_after(SESSION_TIMEOUT):
        async with httpx2.AsyncClient(headers=headers, timeout=CLIENT_TIMEOUT) as http:
            transport = streamable_http_client(servers.token_on_all_interfaces.url(), http_client=http)
            async with Client(transport, mode=era) as client:
                names = await list_and_read(client)

    assert names == ALL_TOOLS


async def test_off_loopback_the_host_check_still_applies_behind_the_token(servers: HttpServers) -> None:
    headers = {"Authorization": f"Bearer {HTTP_TOKEN}", "Host": "evil.example"}

    assert (await post_initialize(servers.token_on_all_interfaces.url(), headers)).status_code == 421


async def test_with_a_token_on_loopback_a_request_without_it_gets_401(servers: HttpServers) -> None:
    url = servers.token_on_loopback.url()

    assert (await post_initialize(url)).status_code == 401
    assert (await post_initialize(url, {"Authorization": f"Bearer {HTTP_TOKEN}"})).status_code == 200


async def test_the_stdio_server_of_both_sandbox_organizations_acts_in_the_one_each_call_names(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    seed = open_sandbox(str(db)).seed
    env = server_env(ANYREACH_ORG_ID=f"{seed.demo.org_id}=Demo,{seed.other.org_id}=Other")
    params = StdioServerParameters(command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:], "--db", str(db)], env=env)
    with (tmp_path / "stderr.log").open("w") as errlog, anyio.fail_after(SESSION_TIMEOUT):
        async with Client(stdio_client(params, errlog=errlog), mode="auto") as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            other = await client.call_tool("list_phone_numbers", {"organization": "Other", "limit": 100})
            unnamed = await client.call_tool("list_phone_numbers", {"limit": 100})

    assert names == ALL_TOOLS | {"list_organizations"}
    assert other.structured_content is not None
    assert {item["phone_number"] for item in other.structured_content["items"]} >= {"+16175550111"}
    assert "+14155550101" not in str(other.structured_content)
    assert unnamed.is_error


async def test_the_streamable_http_server_of_both_sandbox_organizations_confirms_a_write_only_where_it_was_previewed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sandbox.db"
    seed = open_sandbox(str(db)).seed
    env = server_env(ANYREACH_ORG_ID=f"{seed.demo.org_id}=Demo,{seed.other.org_id}=Other")
    delete = {"organization": "Other", "phone_number": "+12065550122"}
    async with spawn(tmp_path / "server.log", "--transport", "streamable-http", "--db", str(db), env=env) as server:
        await wait_until_listening(server)
        with anyio.fail_after(SESSION_TIMEOUT):
            async with Client(server.url(), mode="legacy") as client:
                tools = {tool.name: tool for tool in (await client.list_tools()).tools}
                offered = await client.call_tool("delete_phone_number", delete)
                assert offered.structured_content is not None, offered.content
                token = offered.structured_content["confirmation_token"]
                in_demo = await client.call_tool(
                    "delete_phone_number", {**delete, "organization": "Demo", "confirmation_token": token}
                )
                done = await client.call_tool("delete_phone_number", {**delete, "confirmation_token": token})
                other = await client.call_tool("list_phone_numbers", {"organization": "Other", "limit": 100})
                demo = await client.call_tool("list_phone_numbers", {"organization": "Demo", "limit": 100})

    assert set(tools) == ALL_TOOLS | {"list_organizations"}
    assert all(tools[name].input_schema["required"][0] == "organization" for name in ALL_TOOLS)
    assert offered.structured_content["message"].startswith(f"In organization Other ({seed.other.org_id}): ")
    assert in_demo.is_error, "a token previewed in Other is refused in Demo"
    assert done.structured_content is not None, done.content
    assert done.structured_content["status"] == "done"
    assert done.structured_content["in_organization"] == f"Other ({seed.other.org_id})"
    assert other.structured_content is not None
    assert demo.structured_content is not None
    assert "+12065550122" not in str(other.structured_content)
    assert {item["phone_number"] for item in demo.structured_content["items"]} >= {"+14155550101"}
