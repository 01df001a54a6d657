"""Pins what models see of every tool: name, title and annotations in full and read-only mode, and the input
schemas the package publishes (`mcp_anyreach/server/tool_schemas.json`), which must be the ones the tool
signatures derive.

A change here changes every conversation that uses the server; review the diff, then refresh with
`pytest tests/server/test_tool_schemas.py --inline-snapshot=fix`.
"""

from __future__ import annotations

from typing import Any

import pytest
from inline_snapshot import external_file

from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server.registry import SPEC_BY_NAME
from mcp_anyreach.server.tool_factory import published_schemas
from tests.server.conftest import ServerFactory, connect


async def _surface(make_server: ServerFactory, **settings: Any) -> list[dict[str, Any]]:
    async with connect(make_server(**settings), "legacy") as client:
        tools = (await client.list_tools()).tools
    return [
        tool.model_dump(by_alias=True, exclude_none=True, mode="json", include={"name", "title", "annotations"})
        for tool in tools
    ]


async def _input_schemas(make_server: ServerFactory, **settings: Any) -> dict[str, Any]:
    async with connect(make_server(**settings), "legacy") as client:
        return {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}


@pytest.mark.parametrize(
    ("settings", "snapshot_file"), [({}, "tools.json"), ({"read_only": True}, "tools_read_only.json")]
)
async def test_every_tool_name_title_and_annotations_match_the_reviewed_snapshot(
    make_server: ServerFactory, settings: dict[str, Any], snapshot_file: str
) -> None:
    assert await _surface(make_server, **settings) == external_file(f"snapshots/{snapshot_file}")


async def test_every_tool_carries_a_title_and_all_four_hints_from_the_policy_table(make_server: ServerFactory) -> None:
    for tool in await _surface(make_server):
        spec = SPEC_BY_NAME[tool["name"]]
        assert tool["title"] == spec.title
        assert set(tool["annotations"]) >= {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
        assert tool["annotations"]["readOnlyHint"] is (spec.kind == "read")
        assert tool["annotations"]["destructiveHint"] is (
            spec.kind == "destroy" or (spec.kind == "write" and spec.gated)
        )


async def test_the_shipped_input_schemas_are_the_ones_the_tool_signatures_derive(
    make_server: ServerFactory, make_organizations_server: ServerFactory
) -> None:
    derived = await _input_schemas(make_server, input_schemas={})
    several = await _input_schemas(make_organizations_server, input_schemas={})
    derived["list_organizations"] = several["list_organizations"]  # served only with several organizations
    assert derived == external_file("../../mcp_anyreach/server/tool_schemas.json")


async def test_with_several_organizations_every_tool_but_the_list_of_them_takes_one_first_as_reviewed(
    make_organizations_server: ServerFactory,
) -> None:
    async with connect(make_organizations_server(), "legacy") as client:
        tools = (await client.list_tools()).tools
    surface = [
        tool.model_dump(by_alias=True, exclude_none=True, mode="json", include={"name", "annotations", "input_schema"})
        for tool in tools
    ]
    assert surface == external_file("snapshots/tools_several_organizations.json")


async def test_one_organization_named_serves_exactly_what_an_unnamed_one_does(
    make_server: ServerFactory, sandbox: Sandbox
) -> None:
    named = await _input_schemas(make_server, org_id=f"{sandbox.seed.demo.org_id}=Demo")
    assert named == await _input_schemas(make_server)
    assert await _surface(make_server, org_id=f"{sandbox.seed.demo.org_id}=Demo") == await _surface(make_server)


def test_every_tool_in_the_policy_table_has_a_shipped_input_schema() -> None:
    assert set(published_schemas()) == set(SPEC_BY_NAME)


async def test_the_server_publishes_the_input_schemas_it_is_given(make_server: ServerFactory) -> None:
    given = {"type": "object", "properties": {"trunk_id": {"type": "string", "description": "given"}}}
    published = await _input_schemas(make_server, input_schemas={"get_trunk": given})
    assert published["get_trunk"] == given
    assert published["list_trunks"] == published_schemas()["list_trunks"]
