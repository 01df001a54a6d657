"""Read-only audit mode: only read tools exist, and no request but GET ever reaches the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from mcp_anyreach.api import AnyreachClient, ReadOnlyError
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import (
    ACCEPT,
    READ_TOOLS,
    WRITE_TOOLS,
    ServerFactory,
    answering,
    call,
    connect,
    questions,
    sandbox_api,
    write_arguments,
)


@pytest.fixture
async def read_only_api(sandbox: Sandbox) -> AsyncIterator[AnyreachClient]:
    async with sandbox_api(sandbox, read_only=True) as client:
        yield client


def writes_seen(sandbox: Sandbox) -> dict[str, int]:
    return {method: count for method, count in sandbox.app.state.request_counts.items() if method != "GET"}


async def test_a_read_only_server_lists_only_read_tools_each_marked_read_only(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(read_only=True), era) as client:
        tools = (await client.list_tools()).tools

    assert {tool.name for tool in tools} == READ_TOOLS
    assert all(tool.annotations is not None and tool.annotations.read_only_hint is True for tool in tools)
    assert all(tool.annotations is not None and tool.annotations.destructive_hint is False for tool in tools)


async def test_no_write_tool_runs_on_a_read_only_server_and_nothing_changes(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    trunks_before = [trunk async for trunk in api.trunks.iter()]
    numbers_before = [number async for number in api.phone_numbers.iter()]
    callback = answering("accept", ACCEPT)
    async with connect(make_server(read_only=True), era, elicitation_callback=callback) as client:
        results = {tool: await call(client, tool, arguments) for tool, arguments in write_arguments(sandbox).items()}

    assert set(results) == WRITE_TOOLS
    assert {tool for tool, result in results.items() if not result.is_error} == set()
    assert questions(callback) == []
    assert writes_seen(sandbox) == {}
    assert [trunk async for trunk in api.trunks.iter()] == trunks_before
    assert [number async for number in api.phone_numbers.iter()] == numbers_before
    assert await api.inbound_routing.get() is None


async def test_calling_a_write_tool_by_name_on_a_read_only_server_says_the_server_is_read_only(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_server(read_only=True), era) as client:
        results = {tool: await call(client, tool, arguments) for tool, arguments in write_arguments(sandbox).items()}
        unknown = await call(client, "delete_everything", {})

    said = {tool: str(getattr(result.content[0], "text", "")) for tool, result in results.items()}
    assert all(result.is_error for result in results.values())
    assert {tool for tool, text in said.items() if "This server is read-only" not in text} == set()
    assert {tool for tool, text in said.items() if "Unknown tool" in text} == set()
    assert "Unknown tool" in str(getattr(unknown.content[0], "text", "")), "a name no server offers is still unknown"
    assert writes_seen(sandbox) == {}


async def test_the_read_only_server_keeps_every_resource_of_the_full_server_and_reads_them(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_server(), era) as client:
        full = {str(resource.uri) for resource in (await client.list_resources()).resources}
        full_templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    async with connect(make_server(read_only=True), era) as client:
        kept = {str(resource.uri) for resource in (await client.list_resources()).resources}
        kept_templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        with anyio.fail_after(10):
            contents = {uri: (await client.read_resource(uri)).contents for uri in sorted(kept)}

    assert "anyreach://inventory" in kept
    assert (kept, kept_templates) == (full, full_templates)
    assert all(len(parts) == 1 for parts in contents.values())
    assert writes_seen(sandbox) == {}


async def test_no_request_but_get_reaches_the_api_through_a_read_only_client_whatever_is_tried(
    make_server: ServerFactory, read_only_api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    demo = sandbox.seed.demo
    reads: dict[str, dict[str, Any]] = {
        "list_phone_numbers": {},
        "get_phone_number": {"phone_number": "+12125550132"},
        "list_trunks": {"limit": 1},
        "get_trunk": {"trunk_id": demo.byoc_trunk_id},
        "get_inbound_routing_config": {},
    }
    server = make_server(client=read_only_api, read_only=True)
    async with connect(server, era, elicitation_callback=answering("accept", ACCEPT)) as client:
        read_results = {tool: await call(client, tool, arguments) for tool, arguments in reads.items()}
        write_results = [await call(client, tool, arguments) for tool, arguments in write_arguments(sandbox).items()]
        with anyio.fail_after(10):
            for resource in (await client.list_resources()).resources:
                await client.read_resource(str(resource.uri))

    with pytest.raises(ReadOnlyError):
        await read_only_api.trunks.create(name="Sneaky PBX")
    with pytest.raises(ReadOnlyError):
        await read_only_api.phone_numbers.delete("+12125550132")
    with pytest.raises(ReadOnlyError):
        await read_only_api.inbound_routing.create(workflow_id="wf_sneaky")

    assert [tool for tool, result in read_results.items() if result.is_error] == []
    assert all(result.is_error for result in write_results)
    assert sandbox.app.state.request_counts["GET"] > 0
    assert writes_seen(sandbox) == {}


async def test_a_read_only_client_refuses_a_write_before_any_request_is_sent(
    read_only_api: AnyreachClient, sandbox: Sandbox
) -> None:
    served_before = sum(sandbox.app.state.request_counts.values())

    with pytest.raises(ReadOnlyError):
        await read_only_api.agents.publish(sandbox.seed.demo.agent_ids[0], 1, phone_numbers=["+14155550102"])

    assert sum(sandbox.app.state.request_counts.values()) == served_before


async def test_the_trunks_toolset_in_read_only_mode_leaves_only_list_trunks_and_get_trunk(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_server(toolsets=["trunks"], read_only=True), era) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        update = await call(client, "update_trunk", {"trunk_id": sandbox.seed.demo.byoc_trunk_id, "name": "X"})

    assert names == {"list_trunks", "get_trunk"}
    assert update.is_error
    assert writes_seen(sandbox) == {}


async def test_read_only_wins_over_explicitly_chosen_write_tools(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    server = make_server(tools=["delete_trunk", "purchase_phone_number", "get_trunk"], read_only=True)
    async with connect(server, era) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}

    assert names == {"get_trunk"}
    assert writes_seen(sandbox) == {}


async def test_the_server_tells_the_model_it_is_read_only(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(read_only=True), era) as client:
        instructions = client.instructions

    assert instructions is not None
    assert "READ-ONLY" in instructions
    assert "confirmation_token" not in instructions
