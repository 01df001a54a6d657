"""The prompts a person picks: listed with their arguments, rendered into conversation messages."""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import PromptMessage, TextContent

from tests.server.conftest import ServerFactory, connect


def text_of(message: PromptMessage) -> str:
    assert isinstance(message.content, TextContent)
    return message.content.text


async def test_both_prompts_are_listed_with_their_arguments(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(), era) as client:
        prompts = {prompt.name: prompt for prompt in (await client.list_prompts()).prompts}

    assert set(prompts) == {"audit_telephony", "provision_number"}
    assert prompts["audit_telephony"].arguments in (None, [])
    arguments = {argument.name: argument.required for argument in prompts["provision_number"].arguments or []}
    assert arguments == {"area_code": True, "agent_id": False}


async def test_the_audit_prompt_reads_the_inventory_runs_the_audit_and_changes_nothing(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        rendered = await client.get_prompt("audit_telephony")

    text = "\n".join(text_of(message) for message in rendered.messages)
    assert rendered.messages[0].role == "user"
    for step in ("anyreach://inventory", "audit_inventory", "severity", "fix", "Change nothing"):
        assert step in text


async def test_the_provision_prompt_walks_from_search_to_routing_with_the_given_agent(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        rendered = await client.get_prompt("provision_number", {"area_code": "415", "agent_id": "agent_front_desk"})

    (message,) = rendered.messages
    text = text_of(message)
    steps = [
        "search_available_numbers",
        "purchase_phone_number",
        "assign_agent_to_numbers",
        "get_inbound_routing_config",
    ]
    assert [text.index(step) for step in steps] == sorted(text.index(step) for step in steps)
    assert "area code 415" in text
    assert "agent_front_desk" in text
    assert "confirmation" in text


async def test_without_an_agent_the_provision_prompt_asks_which_one(make_server: ServerFactory) -> None:
    async with connect(make_server(), "auto") as client:
        rendered = await client.get_prompt("provision_number", {"area_code": "(212)"})

    text = text_of(rendered.messages[0])
    assert "area code 212" in text
    assert "ask me which agent" in text
    assert "list_agents" in text, "the model finds the agents itself instead of asking for ids"


async def test_the_provision_prompt_requires_an_area_code(make_server: ServerFactory) -> None:
    async with connect(make_server(), "auto") as client:
        with pytest.raises(MCPError):
            await client.get_prompt("provision_number", {})
