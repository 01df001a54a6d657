"""assign_agent_to_numbers through the real server and the real sandbox, in both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from mcp_types import CallToolResult

from mcp_anyreach.api import AnyreachClient, PhoneNumber
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ACCEPT, ServerFactory, answering, call, connect, questions

UNASSIGNED = ("+14155550102", "+13125550143")
ANSWERED_BY_FIRST_AGENT = "+14155550101"  # seeded: agent 0, version 2, inbound
ANSWERED_BY_SECOND_AGENT = "+12125550132"  # seeded: agent 1, version 1, both directions


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def numbers(api: AnyreachClient, *phone_numbers: str) -> list[PhoneNumber]:
    return [await api.phone_numbers.get(number) for number in phone_numbers]


def version_id(sandbox: Sandbox, agent_index: int, version: int) -> str:
    demo = sandbox.seed.demo
    return sandbox.store.agents.version_id(demo.org_id, demo.agent_ids[agent_index], version)


async def assign_confirmed(
    make_server: ServerFactory, era: str, path: str, arguments: dict[str, Any]
) -> CallToolResult:
    """Call assign_agent_to_numbers and confirm it: by the user when asked, or with the preview's token."""
    if path == "elicitation":
        callback = answering("accept", ACCEPT)
        async with connect(make_server(), era, elicitation_callback=callback) as client:
            result = await call(client, "assign_agent_to_numbers", arguments)
        assert len(questions(callback)) == 1
        return result
    async with connect(make_server(), era) as client:
        preview = await call(client, "assign_agent_to_numbers", arguments)
        assert preview.structured_content is not None
        assert preview.structured_content["status"] == "confirmation_required"
        token = preview.structured_content["confirmation_token"]
        return await call(client, "assign_agent_to_numbers", {**arguments, "confirmation_token": token})


def done(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["status"] == "done"
    return result.structured_content


@pytest.mark.parametrize("path", ["elicitation", "token"])
@pytest.mark.parametrize(
    ("direction", "inbound_set", "outbound_set"),
    [("inbound", True, False), ("outbound", False, True), ("both", True, True)],
)
async def test_assigning_an_agent_points_the_chosen_direction_of_each_number_at_it_once_confirmed(
    make_server: ServerFactory,
    api: AnyreachClient,
    sandbox: Sandbox,
    era: str,
    path: str,
    direction: str,
    inbound_set: bool,
    outbound_set: bool,
) -> None:
    arguments = {
        "agent_id": sandbox.seed.demo.agent_ids[2],
        "version": 3,
        "phone_numbers": list(UNASSIGNED),
        "direction": direction,
    }
    result = await assign_confirmed(make_server, era, path, arguments)

    done(result)
    agent_version = version_id(sandbox, 2, 3)
    for number in await numbers(api, *UNASSIGNED):
        assert number.inbound_agent_version_id == (agent_version if inbound_set else None)
        assert number.outbound_agent_version_id == (agent_version if outbound_set else None)


async def test_without_confirmation_the_assignment_changes_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    before = await numbers(api, *UNASSIGNED)
    arguments = {"agent_id": sandbox.seed.demo.agent_ids[2], "version": 1, "phone_numbers": list(UNASSIGNED)}
    async with connect(make_server(), era) as client:
        preview = await call(client, "assign_agent_to_numbers", arguments)
    async with connect(make_server(), era, elicitation_callback=answering("decline")) as client:
        declined = await call(client, "assign_agent_to_numbers", arguments)

    assert preview.structured_content is not None
    assert preview.structured_content["status"] == "confirmation_required"
    assert declined.structured_content is not None
    assert declined.structured_content["status"] == "declined"
    assert await numbers(api, *UNASSIGNED) == before


async def test_the_question_names_each_number_and_the_agent_version_answering_it_now_and_next(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    new_agent = sandbox.seed.demo.agent_ids[2]
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(
            client,
            "assign_agent_to_numbers",
            {"agent_id": new_agent, "version": 1, "phone_numbers": [ANSWERED_BY_FIRST_AGENT]},
        )

    done(result)
    (question,) = questions(callback)
    assert ANSWERED_BY_FIRST_AGENT in question
    assert version_id(sandbox, 0, 2) in question
    assert new_agent in question


async def test_numbers_written_with_spaces_and_brackets_are_normalised_to_e164_before_assigning(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    arguments = {"agent_id": sandbox.seed.demo.agent_ids[2], "version": 2, "phone_numbers": ["+1 (415) 555-0102"]}
    result = await assign_confirmed(make_server, era, "elicitation", arguments)

    assert [row["phone_number"] for row in done(result)["result"]] == ["+14155550102"]
    (number,) = await numbers(api, "+14155550102")
    assert number.inbound_agent_version_id == version_id(sandbox, 2, 2)


@pytest.mark.parametrize("path", ["elicitation", "token"])
async def test_unassigning_clears_the_agent_from_the_number_once_confirmed(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str, path: str
) -> None:
    arguments = {
        "agent_id": sandbox.seed.demo.agent_ids[1],
        "version": 1,
        "unassign_phone_numbers": [ANSWERED_BY_SECOND_AGENT],
        "direction": "both",
    }
    result = await assign_confirmed(make_server, era, path, arguments)

    done(result)
    (number,) = await numbers(api, ANSWERED_BY_SECOND_AGENT)
    assert (number.inbound_agent_version_id, number.outbound_agent_version_id) == (None, None)


async def test_unassigning_an_agent_that_does_not_answer_the_number_leaves_the_number_alone(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    before = await numbers(api, ANSWERED_BY_SECOND_AGENT)
    arguments = {
        "agent_id": sandbox.seed.demo.agent_ids[2],
        "version": 1,
        "unassign_phone_numbers": [ANSWERED_BY_SECOND_AGENT],
        "direction": "both",
    }
    result = await assign_confirmed(make_server, era, "elicitation", arguments)

    done(result)
    assert await numbers(api, ANSWERED_BY_SECOND_AGENT) == before


@pytest.mark.parametrize(
    ("agent_id", "version"),
    [("agt_does_not_exist", 1), ("other-org", 1), ("own-agent", 99)],
    ids=["unknown-agent", "another-orgs-agent", "unknown-version"],
)
async def test_an_unknown_agent_or_version_is_a_tool_error_and_changes_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str, agent_id: str, version: int
) -> None:
    agent = {"other-org": sandbox.seed.other.agent_ids[0], "own-agent": sandbox.seed.demo.agent_ids[0]}.get(
        agent_id, agent_id
    )
    before = await numbers(api, *UNASSIGNED)
    async with connect(make_server(), era, elicitation_callback=answering("accept", ACCEPT)) as client:
        result = await call(
            client,
            "assign_agent_to_numbers",
            {"agent_id": agent, "version": version, "phone_numbers": list(UNASSIGNED)},
        )

    assert result.is_error
    assert "agent" in text_of(result).lower()
    assert await numbers(api, *UNASSIGNED) == before


async def test_a_number_outside_the_directory_is_a_tool_error_before_anyone_is_asked(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    before = await numbers(api, *UNASSIGNED)
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(
            client,
            "assign_agent_to_numbers",
            {
                "agent_id": sandbox.seed.demo.agent_ids[2],
                "version": 1,
                "phone_numbers": [*UNASSIGNED, "+16175550111"],  # the last belongs to another organization
            },
        )

    assert result.is_error
    assert "list_phone_numbers" in text_of(result)
    assert questions(callback) == []
    assert await numbers(api, *UNASSIGNED) == before


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"phone_numbers": ["+14155550102"], "unassign_phone_numbers": ["+14155550102"]},
        {"phone_numbers": ["not a number"]},
        {"phone_numbers": ["+14155550102"], "direction": "sideways"},
    ],
    ids=["no-numbers", "assign-and-unassign", "not-a-number", "bad-direction"],
)
async def test_malformed_assignments_are_tool_errors_and_nobody_is_asked(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str, arguments: dict[str, Any]
) -> None:
    before = await numbers(api, *UNASSIGNED)
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(
            client, "assign_agent_to_numbers", {"agent_id": sandbox.seed.demo.agent_ids[2], "version": 1, **arguments}
        )

    assert result.is_error
    assert questions(callback) == []
    assert await numbers(api, *UNASSIGNED) == before
