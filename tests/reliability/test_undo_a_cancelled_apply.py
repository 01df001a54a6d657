"""A cancelled apply_changes can be undone: the repeat of the call names the undo id of what ran, and its undo
takes back exactly the steps that ran."""

from __future__ import annotations

import anyio
import pytest

from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import data
from tests.reliability.test_cancelled_apply import NUMBERS, TIMEOUT, Door, _cancel_at_the_door, audit_lines
from tests.server.conftest import ERAS, ServerFactory, api, call, connect, in_directory, make_server, sandbox

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server


@pytest.mark.parametrize("era", ERAS)
async def test_the_undo_of_a_cancelled_apply_takes_back_exactly_the_steps_that_ran(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    door = Door(sandbox, hold_at=4)
    trunk = sandbox.seed.demo.byoc_trunk_id
    register = {"operations": [{"op": "register_numbers", "phone_numbers": NUMBERS, "trunk_id": trunk}]}
    async with door.client(sandbox) as api:
        with anyio.fail_after(TIMEOUT), audit_lines() as audit:
            async with connect(make_server(client=api), era) as client:
                plan = data(await call(client, "plan_changes", register))
                confirmed = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
                await _cancel_at_the_door(client, door, confirmed, era, [])
                await audit.cancelled.wait()
                repeat = data(await call(client, "apply_changes", confirmed))
                undo = [{"op": "undo", "undo_id": repeat["result"]["undo_id"]}]
                inverse = data(await call(client, "plan_changes", {"operations": undo}))
                arguments = {"plan_id": inverse["plan_id"], "confirmation_token": inverse["confirmation_token"]}
                undone = data(await call(client, "apply_changes", arguments))
                left = [number for number in NUMBERS if await in_directory(api, number)]

    assert repeat["result"]["done"] == 4
    assert repeat["result"]["undo_id"] in repeat["message"], "the repeat says how to undo what ran"
    assert [step["detail"] for step in inverse["steps"]] == [f"delete {number}" for number in NUMBERS[:4]]
    assert undone["status"] == "done"
    assert left == []
