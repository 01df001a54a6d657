"""A person says "Support" or "the Main PBX trunk": a name given as an id is answered with the id, never "no such"."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_anyreach.api import AnyreachClient, Trunk
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import texts
from tests.server.conftest import ServerFactory, answering, call, connect, questions

SUPPORT, SALES, LEGACY_IVR = 0, 2, 3
BYOC_NUMBER = "+12125550131"
SOURCES = ("list_trunks", "list_agents", "plan_changes", "Anyreach workflows")


def agent(sandbox: Sandbox, index: int) -> str:
    return sandbox.seed.demo.agent_ids[index]


async def trunk_named(api: AnyreachClient, name: str) -> Trunk:
    return await api.trunks.create(name=name)


async def refusal(make_server: ServerFactory, era: str, tool: str, arguments: dict[str, Any]) -> str:
    """What the model reads when it calls `tool`, with a human ready to accept; asserts nobody was asked."""
    human = answering("accept", {"confirm": True})
    async with connect(make_server(), era, elicitation_callback=human) as client:
        result = await call(client, tool, arguments)
    assert result.is_error, result.content
    assert questions(human) == []
    return texts(result)


@pytest.mark.parametrize(
    ("tool", "arguments", "index"),
    [
        ("get_agent", {"agent_id": "support"}, SUPPORT),
        ("assign_agent_to_numbers", {"agent_id": "Sales", "phone_numbers": [BYOC_NUMBER]}, SALES),
        ("assign_agent_to_numbers", {"agent_id": "legacy ivr", "phone_numbers": [BYOC_NUMBER]}, LEGACY_IVR),
        ("create_inbound_routing_config", {"workflow_id": "wf_hours", "fallback_agent_id": "SALES"}, SALES),
        ("list_phone_numbers", {"inbound_agent": "Support"}, SUPPORT),
    ],
)
async def test_an_agent_name_given_as_its_id_is_answered_with_the_id_to_pass(
    make_server: ServerFactory, sandbox: Sandbox, era: str, tool: str, arguments: dict[str, Any], index: int
) -> None:
    said = await refusal(make_server, era, tool, arguments)
    argument = next(name for name in arguments if "agent" in name)
    assert f"is the name of the agent {agent(sandbox, index)}" in said
    assert f"pass {argument}='{agent(sandbox, index)}'" in said
    assert "There is no agent" not in said


async def test_a_name_given_as_an_agent_id_changes_no_number_and_no_routing(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    before = await api.phone_numbers.get(BYOC_NUMBER)
    await refusal(make_server, era, "assign_agent_to_numbers", {"agent_id": "Sales", "phone_numbers": [BYOC_NUMBER]})
    await refusal(
        make_server, era, "create_inbound_routing_config", {"workflow_id": "wf", "fallback_agent_id": "Sales"}
    )
    assert await api.phone_numbers.get(BYOC_NUMBER) == before
    assert await api.inbound_routing.get() is None


async def test_a_trunk_name_given_as_its_id_is_answered_with_the_id_in_every_tool_that_takes_one(
    make_server: ServerFactory, sandbox: Sandbox, api: AnyreachClient, era: str
) -> None:
    spare = await trunk_named(api, "Spare-PBX")
    byoc = sandbox.seed.demo.byoc_trunk_id
    byoc_name = (await api.trunks.get(byoc)).name
    calls = [
        ("get_trunk", {"trunk_id": "spare-pbx"}, "trunk_id", spare.id),
        ("update_trunk", {"trunk_id": "Spare-PBX", "name": "Renamed"}, "trunk_id", spare.id),
        ("delete_trunk", {"trunk_id": "SPARE-PBX"}, "trunk_id", spare.id),
        ("list_phone_numbers", {"trunk_id": byoc_name}, "trunk_id", byoc),
        ("register_phone_number", {"phone_number": "+16465550199", "trunk_id": "Spare-PBX"}, "trunk_id", spare.id),
        ("move_phone_numbers", {"to_trunk_id": "Spare-PBX", "phone_numbers": [BYOC_NUMBER]}, "to_trunk_id", spare.id),
        ("move_phone_numbers", {"to_trunk_id": spare.id, "from_trunk_id": byoc_name}, "from_trunk_id", byoc),
    ]
    for tool, arguments, argument, trunk_id in calls:
        said = await refusal(make_server, era, tool, arguments)
        assert f"is the name of the trunk {trunk_id}" in said, (tool, said)
        assert f"pass {argument}='{trunk_id}'" in said, (tool, said)
    nobody = await refusal(make_server, era, "get_trunk", {"trunk_id": "Nowhere-PBX"})
    assert "list_trunks" in nobody
    assert "is the name of" not in nobody
    assert (await api.trunks.get(spare.id)).name == "Spare-PBX"
    assert (await api.phone_numbers.get(BYOC_NUMBER)).trunk_id == byoc


async def test_a_trunk_name_in_a_planned_operation_is_answered_with_the_id(
    make_server: ServerFactory, sandbox: Sandbox, api: AnyreachClient, era: str
) -> None:
    spare = await trunk_named(api, "Spare-PBX")
    operation = {"op": "move_numbers", "to_trunk_id": "spare-pbx", "phone_numbers": [BYOC_NUMBER]}
    async with connect(make_server(read_only=True), era) as client:
        planned = await call(client, "plan_changes", {"operations": [operation]})
    assert planned.is_error
    assert f"pass to_trunk_id='{spare.id}'" in texts(planned)


async def test_a_name_two_trunks_share_lists_both_with_their_ids_and_picks_neither(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    first, second = await trunk_named(api, "Spare-PBX"), await trunk_named(api, "spare-pbx")
    said = await refusal(make_server, era, "delete_trunk", {"trunk_id": "Spare-pbx"})
    assert "names 2 trunks" in said
    assert f"{first.id} ('Spare-PBX')" in said
    assert f"{second.id} ('spare-pbx')" in said
    assert {trunk.id async for trunk in api.trunks.iter()} >= {first.id, second.id}


async def test_a_name_two_agents_share_lists_both_with_their_ids(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    twin = sandbox.store.agents.create(sandbox.seed.demo.org_id, "support", 1, published=(1,))
    said = await refusal(make_server, era, "get_agent", {"agent_id": "Support"})
    assert "names 2 agents" in said
    assert agent(sandbox, SUPPORT) in said
    assert twin in said


async def test_every_id_argument_says_where_its_value_comes_from(make_server: ServerFactory) -> None:
    async with connect(make_server(), "auto") as client:
        tools = (await client.list_tools()).tools
    silent = {
        f"{tool.name}.{name}": prop.get("description")
        for tool in tools
        for name, prop in tool.input_schema.get("properties", {}).items()
        if name.endswith("_id") and not any(source in prop.get("description", "") for source in SOURCES)
    }
    assert silent == {}
