"""Plans and move intents a store kept before each change became a typed unit still load, show, fingerprint
and run as they did: a confirmation token in flight was signed over the plan's fingerprint. Stored as raw JSON
rows in the SQLite plan store, applied to the real sandbox."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from mcp_anyreach.api import AnyreachClient, NotFoundError
from mcp_anyreach.changes.engine import apply_plan, fingerprint, plan_operations, preview_text
from mcp_anyreach.changes.model import Step
from mcp_anyreach.changes.results import ApplyReport
from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.shared_state.plans import SqlitePlans
from tests.changes.plans_stored_before import (
    MOVE_INTENT,
    PLAN_A,
    PLAN_B,
    PLAN_C,
    PREVIEW_A,
    PREVIEW_B,
    PREVIEW_C,
)
from tests.server.conftest import sandbox_api

ENV = {"ANYREACH_SIP_CARRIER_B": "carrier", "ANYREACH_SIP_PBX_IN": "in", "ANYREACH_SIP_PBX_OUT": "out"}
FAR_FUTURE = 4_000_000_000.0


class Account:
    """The seeded sandbox, a plan store in a SQLite file, and the ids the stored plans name by placeholder."""

    def __init__(self, sandbox: Sandbox, api: AnyreachClient, path: Path) -> None:
        self.api = api
        self.path = path
        self.store = SqlitePlans(path)
        self.ids: dict[str, str] = {"{byoc_trunk}": sandbox.seed.demo.byoc_trunk_id}
        self.tools: list[str] = []

    async def learn_ids(self) -> None:
        directory = await self.api.agents.directory()
        for agent in directory.agents:
            self.ids["{agent:" + agent.name + "}"] = agent.id
            for version in directory.versions_of(agent.id):
                self.ids["{version:" + agent.name + ":" + str(version.version) + "}"] = version.id
        async for trunk in self.api.trunks.iter():
            if trunk.name == "Carrier B":
                self.ids["{carrier_b}"] = trunk.id

    def filled(self, text: str, plan_id: str = "pln_stored") -> str:
        for placeholder, value in {**self.ids, "{plan_id}": plan_id}.items():
            text = text.replace(placeholder, value)
        return text

    def store_raw(self, table: str, row: tuple[str, float, str]) -> None:
        """A row exactly as an earlier server wrote it."""
        columns = "(id, expires_at, plan)" if table == "plans" else "(phone_number, expires_at, intent)"
        with closing(sqlite3.connect(self.path)) as db, db:
            db.execute(f"INSERT INTO {table} {columns} VALUES (?, ?, ?)", row)  # noqa: S608  # two fixed names

    async def run_step(self, plan_id: str, step: Step, call: Callable[[], Awaitable[object]]) -> object:
        self.tools.append(step.tool)
        return await call()

    async def apply(self, plan_id: str) -> ApplyReport:
        return await apply_plan(self.api, self.store, plan_id, self.run_step, env=ENV)


@pytest.fixture
async def account(tmp_path: Path) -> AsyncIterator[Account]:
    sandbox = open_sandbox(":memory:")
    async with sandbox_api(sandbox) as api:
        found = Account(sandbox, api, tmp_path / "state.db")
        await found.learn_ids()
        yield found


async def loads_as_stored(account: Account, stored: str, preview: str) -> str:
    """Store the plan's JSON raw, load it back, check it reads the same; returns its id."""
    text = account.filled(stored)
    account.store_raw("plans", ("pln_stored", FAR_FUTURE, text))

    plan = await account.store.load("pln_stored")

    assert plan is not None
    assert plan.model_dump_json() == text, "a stored plan is written back byte for byte"
    raw: dict[str, Any] = json.loads(text)
    assert fingerprint(plan) == {
        "basis": raw["basis"],
        "steps": [{key: value for key, value in step.items() if key != "n"} for step in raw["steps"]],
    }
    assert preview_text(plan) == account.filled(preview)
    return plan.id


async def test_plans_stored_before_typed_changes_load_show_and_apply_every_kind_of_change(account: Account) -> None:
    api = account.api

    first = await account.apply(await loads_as_stored(account, PLAN_A, PREVIEW_A))
    await account.learn_ids()
    carrier_b = account.ids["{carrier_b}"]
    moved = await api.phone_numbers.get("+12125550131")
    reassigned = await api.phone_numbers.get("+12125550132")
    routing = await api.inbound_routing.get()
    second = await account.apply(await loads_as_stored(account, PLAN_B, PREVIEW_B))
    moved_back = await api.phone_numbers.get("+12125550131")
    trunks_after = {trunk.id async for trunk in api.trunks.iter()}
    third = await account.apply(await loads_as_stored(account, PLAN_C, PREVIEW_C))

    assert (first.complete, first.done, second.complete, second.done, third.complete) == (True, 12, True, 5, True)
    assert account.tools == [
        "create_trunk",
        "update_trunk",
        "delete_phone_number",
        "register_phone_number",
        "assign_agent_to_numbers",
        "register_phone_number",
        "update_phone_number",
        "assign_agent_to_numbers",
        "assign_agent_to_numbers",
        "create_inbound_routing_config",
        "delete_phone_number",
        "delete_phone_number",
        "delete_phone_number",
        "register_phone_number",
        "assign_agent_to_numbers",
        "update_inbound_routing_config",
        "delete_trunk",
        "delete_inbound_routing_config",
    ]
    assert (moved.trunk_id, moved.outbound_shareable) == (carrier_b, True)
    assert moved.inbound_agent_version_id == account.ids["{version:Sales:2}"]
    assert reassigned.outbound_shareable is True
    assert reassigned.inbound_agent_version_id == account.ids["{version:Support:2}"]
    assert reassigned.outbound_agent_version_id is None
    assert await api.phone_numbers.get("+13125550199")
    for purchased in ("+14155550101", "+14155550102"):
        with pytest.raises(NotFoundError):
            await api.phone_numbers.get(purchased)
    assert routing is not None
    assert routing.fallback_agent_id == account.ids["{agent:Support}"]
    assert (moved_back.trunk_id, moved_back.inbound_agent_version_id) == (
        account.ids["{byoc_trunk}"],
        account.ids["{version:Sales:2}"],
    )
    assert carrier_b not in trunks_after
    assert await api.inbound_routing.get() is None
    assert await account.store.moves() == {}, "a finished move is forgotten"


async def test_a_move_interrupted_before_typed_changes_is_finished_by_planning_the_move_again(
    account: Account,
) -> None:
    await account.apply(await loads_as_stored(account, PLAN_A, PREVIEW_A))
    await account.learn_ids()
    # PLAN_B stopped after its first step: the number is deleted from Carrier B and not yet registered again.
    await account.api.phone_numbers.delete("+12125550131")
    account.store_raw("unfinished_moves", ("+12125550131", FAR_FUTURE, account.filled(MOVE_INTENT)))
    move = {
        "op": "move_numbers",
        "from_trunk_id": account.ids["{carrier_b}"],
        "to_trunk_id": account.ids["{byoc_trunk}"],
    }

    plan = await plan_operations(account.api, account.store, [move])
    report = await account.apply(plan.id)

    assert [step.detail for step in plan.steps] == [
        "register +12125550131 on trunk 'Demo Telephony Co PBX (BYOC)', outbound shareable",
        "'Sales' v2 answers +12125550131",
    ]
    assert report.complete
    restored = await account.api.phone_numbers.get("+12125550131")
    assert (restored.trunk_id, restored.outbound_shareable, restored.inbound_agent_version_id) == (
        account.ids["{byoc_trunk}"],
        True,
        account.ids["{version:Sales:2}"],
    )
