"""Moves an apply left unfinished: finished from what was recorded, and never a way back for a deleted number.

The seed's BYOC trunk holds +12125550131 (shareable, no agents), +12125550132 (one agent on both slots) and
+13125550143. Moving them all plans, in order: delete and register 131; delete, register and publish 132;
delete and register 143. Applying first reads the 3 numbers and the trunk list (the freshness check), so the
n-th request of the apply is step n - 4. Each seed below makes exactly that request fail (a 5xx before the
sandbox's handler runs, so nothing of it was applied).
"""

from __future__ import annotations

from typing import Any

import pytest

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Faults, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from tests.reliability.live import data
from tests.server.conftest import call, connect, in_directory, sandbox_api

ERAS = ["auto", "legacy"]
FAILS_STEP_1 = 6  # delete 131: nothing has moved yet
FAILS_STEP_4 = 17  # register 132 after its delete: the number is out of the directory
FAILS_STEP_5 = 16  # publish 132's agent after its register: the number is on the new trunk, its slots empty
MOVED = "+12125550132"


def _server(api: AnyreachClient) -> Any:
    return build_server(Settings.model_validate({"sandbox": True, "no_confirm": True}), api, sandbox=True)


async def _apply(client: Any, arguments: dict[str, Any], faults: Faults | None = None) -> dict[str, Any]:
    """Plan, then apply with `faults` on for the apply only."""
    plan = data(await call(client, "plan_changes", arguments))
    if faults is not None:
        faults.enabled = True
    try:
        return data(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))
    finally:
        if faults is not None:
            faults.enabled = False


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("seed", [FAILS_STEP_4, FAILS_STEP_5], ids=["out-of-the-directory", "slots-empty"])
async def test_an_interrupted_move_planned_again_gives_the_number_its_agents_and_sharing_back(
    era: str, seed: int
) -> None:
    faults = Faults(error_rate=0.25, seed=seed, max_faults=1, enabled=False)
    sandbox = open_sandbox(":memory:", faults=faults)
    old = sandbox.seed.demo.byoc_trunk_id
    async with sandbox_api(sandbox, max_retries=0) as api:
        await api.phone_numbers.update(MOVED, outbound_shareable=True)
        before = await api.phone_numbers.get(MOVED)
        new = await api.trunks.create(name="New carrier")
        move = {"operations": [{"op": "move_numbers", "to_trunk_id": new.id, "from_trunk_id": old}]}
        async with connect(_server(api), era) as client:
            stopped = await _apply(client, move, faults)
            between = await api.phone_numbers.list(phone_number=MOVED)
            resumed = await _apply(client, move)
        after = await api.phone_numbers.get(MOVED)

    assert stopped["status"] == "partial"
    assert stopped["result"]["failure"]["subject"] == MOVED
    if seed == FAILS_STEP_5:
        assert [(n.trunk_id, n.inbound_agent_version_id) for n in between.items] == [(new.id, None)]
    else:
        assert between.items == []
    assert resumed["status"] == "done"
    assert after.trunk_id == new.id
    assert after.inbound_agent_version_id == before.inbound_agent_version_id is not None
    assert after.outbound_agent_version_id == before.outbound_agent_version_id is not None
    assert after.outbound_shareable is True


async def _delete(client: Any, how: str) -> None:
    """Delete MOVED on purpose: with the single tool, the bulk tool, or a change set."""
    if how == "plan_changes":
        await _apply(client, {"operations": [{"op": "delete_numbers", "phone_numbers": [MOVED]}]})
    elif how == "delete_phone_numbers":
        data(await call(client, how, {"phone_numbers": [MOVED]}))
    else:
        data(await call(client, how, {"phone_number": MOVED}))


DELETES = ["delete_phone_number", "delete_phone_numbers", "plan_changes"]


@pytest.mark.parametrize("era", ERAS)
async def test_a_number_deleted_after_a_failed_move_never_touched_it_stays_deleted(era: str) -> None:
    faults = Faults(error_rate=0.25, seed=FAILS_STEP_1, max_faults=1, enabled=False)
    sandbox = open_sandbox(":memory:", faults=faults)
    old = sandbox.seed.demo.byoc_trunk_id
    async with sandbox_api(sandbox, max_retries=0) as api:
        new = await api.trunks.create(name="New carrier")
        move = {"operations": [{"op": "move_numbers", "to_trunk_id": new.id, "from_trunk_id": old}]}
        async with connect(_server(api), era) as client:
            stopped = await _apply(client, move, faults)
            await api.phone_numbers.delete(MOVED)  # by a person, in the dashboard
            everything = data(await call(client, "plan_changes", move))
            data(await call(client, "apply_changes", {"plan_id": everything["plan_id"]}))
        gone = not await in_directory(api, MOVED)

    assert stopped["result"]["done"] == 0, "the very first step failed"
    assert MOVED not in str(everything["steps"])
    assert gone, "the deleted number came back"


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("how", DELETES)
async def test_a_number_whose_move_was_interrupted_and_then_deleted_on_purpose_stays_deleted(
    era: str, how: str
) -> None:
    faults = Faults(error_rate=0.25, seed=FAILS_STEP_5, max_faults=1, enabled=False)
    sandbox = open_sandbox(":memory:", faults=faults)
    old = sandbox.seed.demo.byoc_trunk_id
    async with sandbox_api(sandbox, max_retries=0) as api:
        new = await api.trunks.create(name="New carrier")
        move = {"operations": [{"op": "move_numbers", "to_trunk_id": new.id, "from_trunk_id": old}]}
        async with connect(_server(api), era) as client:
            await _apply(client, move, faults)
            await _delete(client, how)
            deleted = not await in_directory(api, MOVED)
            everything = data(await call(client, "plan_changes", move))
            if everything["plan_id"] is not None:
                data(await call(client, "apply_changes", {"plan_id": everything["plan_id"]}))
        gone = not await in_directory(api, MOVED)

    assert deleted
    assert MOVED not in str(everything["steps"])
    assert gone, "the deleted number came back"
