"""A desired-state document may name its organization (`organization:`); a server never plans one meant for
another organization in its own, through the real MCP client and the sandbox's two demo organizations."""

from __future__ import annotations

from typing import Any

from mcp_types import TextContent

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ServerFactory, call, connect


async def test_a_document_for_the_other_demo_organization_is_refused_and_nothing_is_planned(
    make_server: ServerFactory, sandbox: Sandbox, api: AnyreachClient, era: str
) -> None:
    other = sandbox.seed.other.org_id
    document: dict[str, Any] = {
        "organization": other,
        "numbers": {"prune": True, "items": []},  # applied in the wrong organization, this would delete its numbers
    }
    before = [number.phone_number async for number in api.phone_numbers.iter()]

    async with connect(make_server(no_confirm=True), era) as client:
        result = await call(client, "plan_changes", {"desired_state": document})

    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    assert f"The document is for organization {other!r}" in block.text
    assert "nothing was planned" in block.text
    assert [number.phone_number async for number in api.phone_numbers.iter()] == before
