"""After the user answers a confirmation, the model learns what was decided: what the user saw, and what the API
now holds. The model never saw the question (the client asked the user), so the outcome must carry it."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ACCEPT, ServerFactory, answering, call, connect, in_directory, questions

SHARED = "+12125550132"  # on the demo BYOC trunk, with agent After-hours on both slots


async def _gated(
    make_server: ServerFactory, era: str, tool: str, arguments: dict[str, Any], action: str = "accept"
) -> tuple[dict[str, Any], str]:
    human = answering(action, ACCEPT)
    async with connect(make_server(), era, elicitation_callback=human) as client:
        result = await call(client, tool, arguments)
    assert not result.is_error, result.content
    [question] = questions(human)
    return result.structured_content or {}, question


async def test_a_confirmed_delete_tells_the_model_what_the_user_saw_and_that_the_number_is_gone(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    outcome, question = await _gated(make_server, era, "delete_phone_number", {"phone_number": SHARED})

    assert outcome["status"] == "done"
    shown_to_the_user = question.split("\n\nProceed?")[0]
    assert shown_to_the_user in outcome["message"]
    assert outcome["now"] == [f"{SHARED}: not in the directory."]
    assert not await in_directory(api, SHARED)


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_a_refused_delete_tells_the_model_what_the_user_refused(
    make_server: ServerFactory, api: AnyreachClient, era: str, action: str
) -> None:
    outcome, question = await _gated(make_server, era, "delete_phone_number", {"phone_number": SHARED}, action)

    assert outcome["status"] in {"declined", "cancelled"}
    assert "nothing changed" in outcome["message"]
    assert question.split("\n\nProceed?")[0] in outcome["message"]
    assert await in_directory(api, SHARED)


async def test_a_confirmed_move_reports_where_each_number_now_is_and_who_answers_it(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    carrier = await api.trunks.create(name="New carrier")
    moved = ["+12125550131", SHARED, "+13125550143"]  # the demo BYOC trunk's numbers

    outcome, question = await _gated(
        make_server, era, "move_phone_numbers", {"to_trunk_id": carrier.id, "phone_numbers": moved}
    )

    assert outcome["status"] == "done"
    assert question.split("\n\nProceed?")[0] in outcome["message"]
    now = {line.split(":")[0]: line for line in outcome["now"] if line.startswith("+")}
    assert set(now) == set(moved)
    assert all(f"on trunk {carrier.id}" in line for line in now.values())
    assert "answered by agent After-hours v1" in now[SHARED]  # kept through the move


async def test_a_trunk_created_after_a_yes_comes_back_with_its_id_so_the_model_can_use_it(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    outcome, _ = await _gated(make_server, era, "create_trunk", {"name": "Carrier after a yes"})

    assert outcome["status"] == "done"
    created = outcome["result"]
    assert (await api.trunks.get(created["id"])).name == "Carrier after a yes"
