"""The JSON resources, read through the real server from the real sandbox, in both protocol eras."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    ReadResourceRequest,
    ReadResourceRequestParams,
    ReadResourceResult,
    TextResourceContents,
)
from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient, InboundConfig, OutboundConfig
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ServerFactory, connect

STATIC = {
    "anyreach://inventory",
    "anyreach://phone-numbers",
    "anyreach://trunks",
    "anyreach://inbound-routing-config",
    "anyreach://agents",
    "anyreach://schema/desired-state",
    "anyreach://schema/operations",
}
VIEWS = {"ui://anyreach/inventory.html", "ui://anyreach/call-route.html", "ui://anyreach/change-set.html"}
TEMPLATES = {"anyreach://phone-numbers/{phone_number}", "anyreach://trunks/{trunk_id}"}
Progress = list[tuple[float, float | None, str | None]]


def text_of(result: ReadResourceResult) -> str:
    (content,) = result.contents
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == "application/json"
    return content.text


async def read_json(client: Client, uri: str) -> Any:
    return json.loads(text_of(await client.read_resource(uri)))


async def read_with_progress(client: Client, uri: str) -> tuple[Any, Progress]:
    """`Client.read_resource` takes no progress callback; the session's request does."""
    reports: Progress = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    request = ReadResourceRequest(params=ReadResourceRequestParams(uri=uri))
    result = await client.session.send_request(request, ReadResourceResult, progress_callback=on_progress)
    return json.loads(text_of(result)), reports


def add_numbers(sandbox: Sandbox, count: int) -> None:
    demo = sandbox.seed.demo
    for index in range(count):
        sandbox.store.phone_numbers.add(
            demo.org_id, f"+1646555{index:04d}", demo.byoc_trunk_id, False, number_limit=1000
        )


async def test_every_resource_and_template_is_listed_as_json(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(), era) as client:
        resources = (await client.list_resources()).resources
        templates = (await client.list_resource_templates()).resource_templates

    assert {str(resource.uri) for resource in resources} == STATIC | VIEWS
    assert {template.uri_template for template in templates} == TEMPLATES
    data = [item for item in [*resources, *templates] if str(getattr(item, "uri", "")) not in VIEWS]
    assert {item.mime_type for item in data} == {"application/json"}
    assert {item.mime_type for item in resources if str(item.uri) in VIEWS} == {"text/html;profile=mcp-app"}


async def test_the_inventory_resource_summarises_the_seeded_sandbox(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_server(), era) as client:
        inventory = await read_json(client, "anyreach://inventory")

    assert inventory["sandbox"] is True
    assert inventory["organization"] == {"numbers": 5, "trunks": 2, "managed_trunks": 1, "byoc_trunks": 1}
    per_trunk = {row["trunk_id"]: (row["kind"], row["numbers"]) for row in inventory["numbers_per_trunk"]}
    demo = sandbox.seed.demo
    assert per_trunk == {demo.managed_trunk_ids[0]: ("managed", 2), demo.byoc_trunk_id: ("byoc", 3)}
    assert inventory["routing"]["state"] == "none"
    assert {finding["code"] for finding in inventory["findings"]} >= {"number_without_inbound_agent"}


async def test_the_agents_resource_names_the_agent_and_version_behind_every_slot(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    async with connect(make_server(), era) as client:
        agents = await read_json(client, "anyreach://agents")

    labels = {
        version["id"]: f"{agent['name']} v{version['version']}" for agent in agents for version in agent["versions"]
    }
    support = (await api.phone_numbers.get("+14155550101")).inbound_agent_version_id
    after_hours = (await api.phone_numbers.get("+12125550132")).outbound_agent_version_id
    assert (labels[support or ""], labels[after_hours or ""]) == ("Support v2", "After-hours v1")
    assert {agent["name"] for agent in agents} >= {"Support", "Sales", "Legacy IVR"}


async def test_the_phone_numbers_resource_lists_the_whole_directory_compactly(make_server: ServerFactory) -> None:
    async with connect(make_server(), "auto") as client:
        numbers = await read_json(client, "anyreach://phone-numbers")

    assert [row["phone_number"] for row in numbers] == [
        "+14155550101",
        "+14155550102",
        "+12125550131",
        "+12125550132",
        "+13125550143",
    ]
    assert numbers[0]["inbound_agent"] == "Support v2", "who answers, by name"
    assert set(numbers[0]) == {
        "phone_number",
        "trunk_id",
        "inbound_agent",
        "outbound_agent",
        "inbound_agent_version_id",
        "outbound_agent_version_id",
        "outbound_shareable",
    }


async def test_large_lists_are_read_page_by_page_with_progress(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    add_numbers(sandbox, 230)

    with anyio.fail_after(20):
        async with connect(make_server(), era) as client:
            numbers, number_progress = await read_with_progress(client, "anyreach://phone-numbers")
            inventory, inventory_progress = await read_with_progress(client, "anyreach://inventory")

    assert len(numbers) == 235
    assert [done for done, _, _ in number_progress] == [100, 200, 235]
    assert inventory["organization"]["numbers"] == 235
    assert [message for _, _, message in inventory_progress][-3:] == [
        "Read 100 phone numbers",
        "Read 200 phone numbers",
        "Read 235 phone numbers",
    ]
    done = [value for value, _, _ in inventory_progress]
    assert done == sorted(set(done))


@pytest.mark.parametrize("encoded", ["%2B14155550101", "+14155550101"])
async def test_one_number_is_read_through_the_template_with_or_without_encoding_the_plus(
    make_server: ServerFactory, sandbox: Sandbox, era: str, encoded: str
) -> None:
    async with connect(make_server(), era) as client:
        number = await read_json(client, f"anyreach://phone-numbers/{encoded}")

    assert number["phone_number"] == "+14155550101"
    assert number["trunk_id"] == sandbox.seed.demo.managed_trunk_ids[0]


@pytest.mark.parametrize(
    "uri",
    [
        "anyreach://phone-numbers/%2B14155550999",
        "anyreach://phone-numbers/not-a-number",
        "anyreach://trunks/00000000-0000-0000-0000-000000000000",
        "anyreach://nothing-here",
    ],
)
async def test_unknown_numbers_and_trunks_are_resource_not_found_errors(
    make_server: ServerFactory, era: str, uri: str
) -> None:
    async with connect(make_server(), era) as client:
        with pytest.raises(MCPError) as raised:
            await client.read_resource(uri)

    assert raised.value.code == INVALID_PARAMS


async def test_the_trunk_resources_show_settings_but_never_a_password(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    trunk = await api.trunks.create(
        name="Known secrets",
        inbound_config=InboundConfig(auth_username="pbx-in", auth_password=SecretStr("inbound-Pa55word-xyz")),
        outbound_config=OutboundConfig(
            address="pbx.example.com:5061", auth_username="pbx-out", auth_password=SecretStr("outbound-Pa55word-xyz")
        ),
    )

    async with connect(make_server(), era) as client:
        texts = [
            text_of(await client.read_resource(uri))
            for uri in [
                *(uri for uri in STATIC if not uri.startswith("anyreach://schema/")),  # schemas name the field
                f"anyreach://trunks/{trunk.id}",
                f"anyreach://trunks/{sandbox.seed.demo.byoc_trunk_id}",
            ]
        ]
        audit = await client.call_tool("audit_inventory", {"min_severity": "info"})
        one = await read_json(client, f"anyreach://trunks/{trunk.id}")

    everything = "\n".join([*texts, str(audit.content), str(audit.structured_content)])
    assert "Pa55word" not in everything
    assert "auth_password" not in everything
    assert one["kind"] == "byoc"
    assert one["inbound"]["auth_username"] == "pbx-in"
    assert one["inbound"]["password_set"] is True
    assert one["outbound"] == {
        "address": "pbx.example.com:5061",
        "transport": "UDP",
        "media_encryption": "NONE",
        "auth_username": "pbx-out",
        "password_set": True,
        "headers": {},
    }


async def test_the_trunks_resource_lists_managed_and_byoc_trunks(make_server: ServerFactory, sandbox: Sandbox) -> None:
    async with connect(make_server(), "auto") as client:
        trunks = await read_json(client, "anyreach://trunks")

    demo = sandbox.seed.demo
    assert {trunk["id"]: trunk["kind"] for trunk in trunks} == {
        demo.managed_trunk_ids[0]: "managed",
        demo.byoc_trunk_id: "byoc",
    }


async def test_the_routing_resource_is_null_until_a_config_exists(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    async with connect(make_server(), era) as client:
        assert await read_json(client, "anyreach://inbound-routing-config") is None

        await api.inbound_routing.create(enabled=True, workflow_id="wf_router", workflow_version=2)

        assert await read_json(client, "anyreach://inbound-routing-config") == {
            "enabled": True,
            "workflow_id": "wf_router",
            "workflow_version": 2,
            "workflow_definition": None,
            "fallback_agent_id": None,
        }


async def test_resources_stay_readable_in_read_only_mode(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(read_only=True), era) as client:
        listed = {str(resource.uri) for resource in (await client.list_resources()).resources}
        inventory = await read_json(client, "anyreach://inventory")

    assert listed == STATIC | VIEWS
    assert inventory["organization"]["numbers"] == 5
