"""Jobs a model asks for, done without asking the human for ids, and mistakes refused instead of ignored."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import data, texts
from tests.server.conftest import ServerFactory, answering, connect

SUPPORT, AFTER_HOURS, SALES, LEGACY, RECEPTIONIST = range(5)


def agent(sandbox: Sandbox, index: int) -> str:
    return sandbox.seed.demo.agent_ids[index]


# 1. The agent directory


async def test_list_agents_names_each_agent_with_its_latest_published_version_and_numbers_it_answers(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_server(read_only=True), era) as client:
        listed = data(await client.call_tool("list_agents", {}))
        sales = data(await client.call_tool("list_agents", {"name": "sal"}))
    by_name = {item["name"]: item for item in listed["items"]}
    assert by_name["Support"]["id"] == agent(sandbox, SUPPORT)
    assert by_name["Support"]["latest_published"] == 2
    assert by_name["Support"]["answers"] == 1
    assert by_name["Demo receptionist"]["latest_published"] is None
    assert [item["name"] for item in sales["items"]] == ["Sales"]


async def test_get_agent_shows_versions_published_or_draft_and_the_numbers_on_each_slot(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_server(read_only=True), era) as client:
        support = data(await client.call_tool("get_agent", {"agent_id": agent(sandbox, SUPPORT)}))
        missing = await client.call_tool("get_agent", {"agent_id": "agt_nope"})
    assert support["versions"] == [
        {"version": 1, "published": True},
        {"version": 2, "published": True},
        {"version": 3, "published": False},
    ]
    assert support["inbound_numbers"] == ["+14155550101"]
    assert missing.is_error
    assert "list_agents" in texts(missing)


async def test_numbers_say_who_answers_them_by_agent_name_and_version(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(read_only=True), era) as client:
        number = data(await client.call_tool("get_phone_number", {"phone_number": "+14155550101"}))
    assert number["inbound_agent"] == "Support v2"


async def test_assigning_an_agent_without_a_version_publishes_its_latest_published_one(
    make_server: ServerFactory, sandbox: Sandbox, api: AnyreachClient, era: str
) -> None:
    human = answering("accept", {"confirm": True})
    async with connect(make_server(), era, elicitation_callback=human) as client:
        result = await client.call_tool(
            "assign_agent_to_numbers", {"agent_id": agent(sandbox, SALES), "phone_numbers": ["+12125550131"]}
        )
    assert data(result)["status"] == "done"
    [question] = human.asked  # type: ignore[attr-defined]
    assert "'Sales'" in question
    assert "version 2" in question
    assert data(result)["result"][0]["inbound_agent"] == "Sales v2"


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"agent_id": "agt_nope"}, "no agent agt_nope"),
        ({"agent_id": "SALES", "version": 9}, "no version 9"),
        ({"agent_id": "RECEPTIONIST"}, "no published version"),
        ({"agent_id": "SALES", "phone_numbers": ["+16465550199"]}, "list_phone_numbers"),
    ],
)
async def test_an_impossible_assignment_is_refused_before_anyone_is_asked_or_a_token_is_made(
    make_server: ServerFactory, sandbox: Sandbox, era: str, arguments: dict[str, Any], reason: str
) -> None:
    indexes = {"SALES": SALES, "RECEPTIONIST": RECEPTIONIST}
    arguments = {"phone_numbers": ["+12125550131"], **arguments}
    arguments["agent_id"] = (
        agent(sandbox, indexes[arguments["agent_id"]]) if arguments["agent_id"] in indexes else arguments["agent_id"]
    )
    human = answering("accept", {"confirm": True})
    async with connect(make_server(), era) as silent, connect(make_server(), era, elicitation_callback=human) as asking:
        tokenless = await silent.call_tool("assign_agent_to_numbers", arguments)
        asked = await asking.call_tool("assign_agent_to_numbers", arguments)
    assert tokenless.is_error
    assert asked.is_error
    assert reason in texts(tokenless)
    assert human.asked == []  # type: ignore[attr-defined]


# 2. Arguments a model cannot get wrong silently


async def test_an_unknown_argument_is_an_error_naming_the_valid_ones_and_changes_nothing(
    make_server: ServerFactory, sandbox: Sandbox, api: AnyreachClient, era: str
) -> None:
    before = await api.phone_numbers.get("+12125550131")
    async with connect(make_server(), era) as client:
        moved = await client.call_tool(
            "update_phone_number",
            {"phone_number": "+12125550131", "outbound_shareable": True, "trunk_id": sandbox.seed.demo.byoc_trunk_id},
        )
    assert moved.is_error
    assert "no argument 'trunk_id'" in texts(moved)
    assert "phone_number, outbound_shareable" in texts(moved)
    assert await api.phone_numbers.get("+12125550131") == before


@pytest.mark.parametrize(
    ("tool", "arguments", "said"),
    [
        ("list_phone_numbers", {"limit": "5"}, "not the string '5'"),
        ("update_phone_number", {"phone_number": "+12125550131", "outbound_shareable": "yes"}, "JSON boolean"),
        ("create_trunk", {"name": "x", "inbound": {"enable_noise_cancellation": "yes"}}, "enable_noise_cancellation"),
    ],
)
async def test_a_string_is_never_taken_for_a_number_or_a_boolean(
    make_server: ServerFactory, era: str, tool: str, arguments: dict[str, Any], said: str
) -> None:
    async with connect(make_server(), era) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert said in texts(result)


async def test_a_validation_error_names_the_argument_and_an_example_without_pydantic_boilerplate(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        result = await client.call_tool("list_phone_numbers", {"limit": 500})
        nowhere = await client.call_tool("get_phone_number", {"phone_number": "+19995550100"})
    assert "limit:" in texts(result)
    assert "for example limit=" in texts(result)
    assert "pydantic" not in texts(result)
    assert "well-formed, but no such number exists" in texts(nowhere)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"inbound_agent": "SUPPORT"}, {"+14155550101"}),
        ({"inbound_agent": "none"}, {"+14155550102", "+12125550131", "+13125550143"}),
        ({"outbound_agent": "any"}, {"+12125550132"}),
        ({"trunk_kind": "byoc"}, {"+12125550131", "+12125550132", "+13125550143"}),
    ],
)
async def test_numbers_can_be_filtered_by_who_answers_them_and_by_trunk_kind(
    make_server: ServerFactory, sandbox: Sandbox, era: str, filters: dict[str, str], expected: set[str]
) -> None:
    if filters.get("inbound_agent") == "SUPPORT":
        filters = {"inbound_agent": agent(sandbox, SUPPORT)}
    async with connect(make_server(read_only=True), era) as client:
        listed = data(await client.call_tool("list_phone_numbers", filters))
    assert {item["phone_number"] for item in listed["items"]} == expected


@pytest.mark.parametrize(
    ("filters", "said"),
    [({"inbound_agent": "agt_nope"}, "list_agents"), ({"trunk_id": "trk_nope"}, "list_trunks")],
)
async def test_a_filter_on_an_agent_or_trunk_that_does_not_exist_is_an_error_not_an_empty_list(
    make_server: ServerFactory, era: str, filters: dict[str, str], said: str
) -> None:
    async with connect(make_server(read_only=True), era) as client:
        result = await client.call_tool("list_phone_numbers", filters)
    assert result.is_error
    assert said in texts(result)


# 3 and 4. Previews and errors that say what will happen and what to try


async def test_an_empty_search_says_what_to_try_next(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(read_only=True), era) as client:
        found = data(await client.call_tool("search_available_numbers", {"area_code": "999"}))
    assert found["items"] == []
    assert "nearby area code" in found["hint"]


async def test_deleting_a_bought_number_says_its_managed_trunk_stays_behind(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        preview = data(await client.call_tool("delete_phone_number", {"phone_number": "+14155550101"}))
    assert "Support v2" in preview["message"]
    assert "managed trunk" in preview["message"]
    assert "stays behind" in preview["message"]


async def test_an_unreachable_api_names_its_address_and_says_retrying_will_not_help(era: str) -> None:
    import socket

    from mcp_anyreach.server import build_server
    from mcp_anyreach.settings import Settings

    with socket.socket() as probe:  # a port that was free a moment ago refuses connections
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AnyreachClient(f"http://127.0.0.1:{port}", "ak_unused") as nowhere:
        server = build_server(Settings.model_validate({"token": "ak_unused"}), nowhere)
        async with connect(server, era) as client:
            result = await client.call_tool("list_trunks", {})
    assert result.is_error
    assert f"http://127.0.0.1:{port}" in texts(result)
    assert "refused the connection" in texts(result)
    assert "retrying will not help" in texts(result)


async def test_the_routing_fallback_agent_can_be_cleared(
    make_server: ServerFactory, sandbox: Sandbox, api: AnyreachClient, era: str
) -> None:
    await api.inbound_routing.create(workflow_id="wf_main", fallback_agent_id=agent(sandbox, SUPPORT))
    async with connect(make_server(no_confirm=True), era) as client:
        result = await client.call_tool("update_inbound_routing_config", {"fallback_agent_id": "none"})
    assert data(result)["status"] == "done"
    assert (await api.inbound_routing.get()).fallback_agent_id is None  # type: ignore[union-attr]


async def test_disabling_routing_says_how_many_numbers_will_have_nobody_answering(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    await api.inbound_routing.create(workflow_id="wf_main")
    async with connect(make_server(), era) as client:
        disable = data(await client.call_tool("update_inbound_routing_config", {"enabled": False}))
        delete = data(await client.call_tool("delete_inbound_routing_config", {}))
    assert "3 number(s) have no inbound agent of their own" in disable["message"]
    assert "3 number(s) have no inbound agent of their own" in delete["message"]


async def test_prompt_arguments_and_resource_parameters_complete_from_the_account(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    from mcp_types import PromptReference, ResourceTemplateReference

    async with connect(make_server(read_only=True), era) as client:
        numbers = await client.complete(
            ResourceTemplateReference(uri="anyreach://phone-numbers/{phone_number}"),
            {"name": "phone_number", "value": "+1212"},
        )
        trunks = await client.complete(
            ResourceTemplateReference(uri="anyreach://trunks/{trunk_id}"), {"name": "trunk_id", "value": ""}
        )
    async with connect(make_server(), era) as client:
        agents = await client.complete(PromptReference(name="provision_number"), {"name": "agent_id", "value": ""})
        codes = await client.complete(PromptReference(name="provision_number"), {"name": "area_code", "value": "41"})
    assert numbers.completion.values == ["+12125550131", "+12125550132"]
    assert sandbox.seed.demo.byoc_trunk_id in trunks.completion.values
    assert agent(sandbox, SUPPORT) in agents.completion.values
    assert codes.completion.values
    assert all(code.startswith("41") for code in codes.completion.values)


async def test_list_agents_does_not_say_an_agent_answers_numbers_while_a_routing_workflow_answers_every_call(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    await api.inbound_routing.create(
        enabled=True, workflow_id="wf_router", workflow_version=1, fallback_agent_id=agent(sandbox, SALES)
    )

    async with connect(make_server(read_only=True), era) as client:
        listed = data(await client.call_tool("list_agents", {}))

    by_name = {item["name"]: item for item in listed["items"]}
    assert by_name["Support"].get("answers") is None, "its number's inbound slot is not consulted"
    assert "wf_router" in listed["warning"]
    assert "every inbound call" in listed["warning"]
    assert agent(sandbox, SALES) in listed["warning"], "the fallback agent answers when the workflow fails"
