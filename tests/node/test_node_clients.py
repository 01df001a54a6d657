"""Clients we did not write, in another language: the TypeScript SDK and the MCP Inspector CLI drive the
real server over stdio and streamable HTTP. `.ci/run` installs them with `npm ci --prefix tests/node`."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcp_anyreach.server.registry import SPECS
from tests.server.procs import SERVER_COMMAND, RunningServer, server_env, spawn, wait_until_listening

NODE_DIR = Path(__file__).parent
NODE = shutil.which("node")
NPX = shutil.which("npx")
RUN_TIMEOUT = 120.0
STDIO_SERVER = [*SERVER_COMMAND, "--db", ":memory:"]
INSPECTOR = ["--no-install", "@modelcontextprotocol/inspector", "--cli"]

pytestmark = [
    pytest.mark.skipif(NODE is None or NPX is None, reason="node/npx is not on PATH; .ci/run needs Node.js 20+"),
    pytest.mark.skipif(
        not (NODE_DIR / "node_modules" / "@modelcontextprotocol").is_dir(),
        reason="Node dependencies are not installed; run: npm ci --prefix tests/node",
    ),
]


@pytest.fixture(scope="module")
async def http_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    log = tmp_path_factory.mktemp("node-http") / "server.log"
    async with spawn(log, "--transport", "streamable-http") as server:
        await wait_until_listening(server)
        yield server


async def run_node(*command: str) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(RUN_TIMEOUT):
        return await anyio.run_process(
            list(command), cwd=NODE_DIR, env=server_env(), stdin=subprocess.DEVNULL, check=False
        )


def json_output(completed: subprocess.CompletedProcess[bytes]) -> Any:
    output = completed.stdout.decode(errors="replace")
    assert completed.returncode == 0, (
        f"exit {completed.returncode}\n{output}\n{completed.stderr.decode(errors='replace')}"
    )
    return json.loads(output)


async def test_the_typescript_sdk_over_stdio_lists_reads_buys_through_elicitation_and_reads_resources() -> None:
    assert NODE is not None
    summary = json_output(await run_node(NODE, "client.mjs", "stdio", *STDIO_SERVER))

    assert summary["ok"] is True
    assert summary["tools"] == len(SPECS)
    assert summary["elicitations"] == 1
    assert summary["purchased"].startswith("+1415")


async def test_the_typescript_sdk_over_streamable_http_buys_a_number_through_elicitation(
    http_server: RunningServer,
) -> None:
    assert NODE is not None
    summary = json_output(await run_node(NODE, "client.mjs", "http", http_server.url()))

    assert summary["ok"] is True
    assert summary["tools"] == len(SPECS)
    assert summary["elicitations"] == 1
    assert summary["inventory_numbers"] == summary["directory_size"]


async def test_the_inspector_cli_lists_every_tool_over_stdio() -> None:
    assert NPX is not None
    listing = json_output(await run_node(NPX, *INSPECTOR, *STDIO_SERVER, "--method", "tools/list"))

    assert {tool["name"] for tool in listing["tools"]} == {spec.name for spec in SPECS}


async def test_the_inspector_cli_calls_list_phone_numbers_over_streamable_http(http_server: RunningServer) -> None:
    assert NPX is not None
    command = [*INSPECTOR, http_server.url(), "--transport", "http", "--method", "tools/call"]
    result = json_output(await run_node(NPX, *command, "--tool-name", "list_phone_numbers", "--tool-arg", "limit=2"))

    assert result["isError"] is False
    assert len(result["structuredContent"]["items"]) == 2
