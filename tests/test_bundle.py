"""The MCP Bundle (manifest.json, packed into a .mcpb for one-click install in Claude Desktop): its version
follows the package, its settings reach real environment variables, and the pinned `mcpb` CLI validates and
packs it into a bundle that runs the same server. `.ci/run` installs the CLI with `npm ci --prefix packaging/mcpb`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_anyreach import __version__
from mcp_anyreach.server.registry import SPECS
from tests.server.procs import SERVER_COMMAND, server_env
from tests.test_packaging import SERVER_JSON, settings_env_names

ROOT = Path(__file__).parents[1]
MANIFEST: dict[str, Any] = json.loads((ROOT / "manifest.json").read_text())
TOOLS_DIR = ROOT / "packaging" / "mcpb"
MCPB = TOOLS_DIR / "node_modules" / ".bin" / "mcpb"
RUN_TIMEOUT = 120.0

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH; .ci/run needs Node.js 20+")
needs_mcpb = pytest.mark.skipif(
    not MCPB.exists(), reason="the mcpb CLI is not installed; run: npm ci --prefix packaging/mcpb"
)


def test_the_bundle_server_json_and_the_package_share_one_version() -> None:
    assert MANIFEST["version"] == __version__
    assert SERVER_JSON["version"] == __version__
    assert all(package["version"] == __version__ for package in SERVER_JSON["packages"])


def test_the_manifest_is_the_current_mcpb_version_and_runs_the_package_with_uv() -> None:
    server = MANIFEST["server"]

    assert MANIFEST["manifest_version"] == "0.4"
    assert server["type"] == "uv"
    assert (ROOT / server["entry_point"]).is_file()
    assert server["mcp_config"]["command"] == "uv"
    assert server["mcp_config"]["args"][-1] == "mcp-anyreach"
    assert MANIFEST["compatibility"]["runtimes"]["python"] == ">=3.11"


def test_every_setting_the_bundle_asks_for_reaches_a_real_variable_and_only_the_token_is_secret() -> None:
    env: dict[str, str] = MANIFEST["server"]["mcp_config"]["env"]
    asked: dict[str, Any] = MANIFEST["user_config"]
    known = settings_env_names()

    used = {match for value in env.values() for match in re.findall(r"\$\{user_config\.(\w+)\}", value)}
    assert set(env) <= set(known)
    assert used == set(asked)
    assert {name for name, field in asked.items() if field.get("sensitive")} == {"anyreach_token"}
    assert env["ANYREACH_TOKEN"] == "${user_config.anyreach_token}"
    assert known["ANYREACH_TOKEN"] is True
    assert asked["read_only"]["type"] == "boolean"
    assert env["MCP_ANYREACH_READ_ONLY"] == "${user_config.read_only}"
    assert not any(field.get("required") for field in asked.values()), "without a token it runs on the sandbox"


def test_the_manifest_lists_every_tool_of_the_policy_table() -> None:
    assert [(tool["name"], tool["description"]) for tool in MANIFEST["tools"]] == [
        (spec.name, spec.title) for spec in SPECS
    ]


def test_the_mcpb_cli_is_pinned_to_one_version_and_locked() -> None:
    package = json.loads((TOOLS_DIR / "package.json").read_text())
    lock = json.loads((TOOLS_DIR / "package-lock.json").read_text())

    pinned = package["dependencies"]["@anthropic-ai/mcpb"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned)
    assert lock["packages"]["node_modules/@anthropic-ai/mcpb"]["version"] == pinned


async def run(*command: str | Path) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(RUN_TIMEOUT):
        return await anyio.run_process([str(part) for part in command], cwd=ROOT, stdin=subprocess.DEVNULL, check=False)


@needs_node
@needs_mcpb
async def test_mcpb_validates_the_manifest_and_packs_a_bundle_that_runs_the_same_server(tmp_path: Path) -> None:
    bundle, unpacked = tmp_path / "mcp-anyreach.mcpb", tmp_path / "unpacked"

    validated = await run(MCPB, "validate", ROOT / "manifest.json")
    packed = await run(MCPB, "pack", ROOT, bundle)

    assert validated.returncode == 0, validated.stdout.decode() + validated.stderr.decode()
    assert packed.returncode == 0, packed.stdout.decode() + packed.stderr.decode()
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        archive.extractall(unpacked)
    assert {"manifest.json", "pyproject.toml", "README.md", "mcp_anyreach/server/tool_schemas.json"} <= names
    assert not {name for name in names if name.startswith(("tests/", ".venv/", "packaging/", "bench/"))}
    assert not {name for name in names if "__pycache__" in name}

    # The bundled source alone, not this checkout, serves the tools.
    env = server_env(PYTHONPATH=str(unpacked))
    with anyio.fail_after(RUN_TIMEOUT):
        imported = await anyio.run_process(
            [SERVER_COMMAND[0], "-c", "import mcp_anyreach; print(mcp_anyreach.__file__)"], env=env, cwd=unpacked
        )
    assert Path(imported.stdout.decode().strip()).is_relative_to(unpacked)
    arguments = [*SERVER_COMMAND[1:], "--db", ":memory:"]
    params = StdioServerParameters(command=SERVER_COMMAND[0], args=arguments, env=env, cwd=unpacked)
    with (tmp_path / "stderr.log").open("w") as errlog, anyio.fail_after(RUN_TIMEOUT):
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = (await client.list_tools()).tools
            where = await client.call_tool("list_trunks", {})
    assert [tool.name for tool in tools] == [spec.name for spec in SPECS]
    assert not where.is_error
