"""Jobs, not endpoints: what two everyday jobs cost a model in tool calls and result characters.

On an account of 100 numbers on one BYOC trunk (plus the demo seed), a model-like client that cannot be
asked (no elicitation: every gated call is a preview, then the same call with the confirmation token) does:
  delete unused   delete every number with no agent on either slot that is not shareable for outbound calls
  move trunk      move every number of the BYOC trunk to a new carrier's trunk, keeping sharing and agents
each twice, on a fresh sandbox: with the single-call tools (list pages, then one gated call per number, and
for a move also register and re-assign the agents it read, batched per agent version), and with a change
set (plan_changes, then apply_changes with its token; a third call, plan_changes again, checks that nothing
is left). Counted: tool calls, and the characters of their text results (what a host hands the model).
Both ways end in the same account; the script checks it.

Run: python bench/jobs.py [--quick]
--quick: 30 numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
from _common import Figures, arguments, run
from mcp import Client

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.sandbox.schemas import TrunkCreate
from mcp_anyreach.sandbox.store import ListFilter
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings

NUMBERS = 100
MAX_CALLS = 3
MAX_CHARACTERS = 8_000


@dataclass
class Meter:
    """A model-like client: every call and the characters of its text result are counted."""

    client: Client
    calls: int = 0
    characters: int = 0
    by_tool: dict[str, int] = field(default_factory=dict[str, int])

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments)
        self.calls += 1
        self.by_tool[tool] = self.by_tool.get(tool, 0) + 1
        self.characters += sum(len(getattr(block, "text", "")) for block in result.content)
        if result.is_error:
            raise RuntimeError(f"{tool}: {getattr(result.content[0], 'text', '')}")
        return result.structured_content or {}

    async def gated(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        preview = await self.call(tool, arguments)
        assert preview["status"] == "confirmation_required", preview
        done = await self.call(tool, {**arguments, "confirmation_token": preview["confirmation_token"]})
        assert done["status"] == "done", done
        return done


def account() -> tuple[Sandbox, str]:
    """The demo org with NUMBERS numbers on its BYOC trunk, about a third of them answered by agents, and an
    empty second BYOC trunk (the new carrier). Answers the sandbox and the new trunk's id."""
    sandbox = open_sandbox(":memory:", number_limit=10 * NUMBERS)
    demo = sandbox.seed.demo
    store = sandbox.store
    on_byoc = store.phone_numbers.list(demo.org_id, ListFilter(limit=100), trunk_id=demo.byoc_trunk_id).items
    store.bulk_add_numbers(demo.org_id, demo.byoc_trunk_id, NUMBERS - len(on_byoc))
    byoc = [
        n.phone_number
        for n in store.phone_numbers.list(demo.org_id, ListFilter(limit=100), trunk_id=demo.byoc_trunk_id).items
    ]
    store.agents.publish(demo.org_id, demo.agent_ids[0], 2, byoc[3:25], [], "inbound")
    store.agents.publish(demo.org_id, demo.agent_ids[2], 1, byoc[25:35], [], "both")
    new = store.trunks.create(demo.org_id, TrunkCreate(name="New carrier (BYOC)"))
    return sandbox, new.id


def agents_of(sandbox: Sandbox) -> dict[str, tuple[str, int]]:
    """What the single-call model is granted for free: which agent and version each `agv_` id is."""
    demo = sandbox.seed.demo
    return {
        version.id: (agent_id, version.version)
        for agent_id in demo.agent_ids
        for version in sandbox.store.agents.versions(demo.org_id, agent_id, ListFilter(limit=100)).items
    }


async def every_number(meter: Meter, **filters: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = await meter.call("list_phone_numbers", {"limit": 100, "cursor": cursor, **filters})
        rows += page["items"]
        cursor = page.get("next_cursor")
        if cursor is None:
            return rows


@dataclass(frozen=True)
class Job:
    """A job on a fresh account: `old` is the BYOC trunk, `new` the new carrier's, `agents` the agv map."""

    old: str
    new: str
    agents: dict[str, tuple[str, int]]


async def delete_unused_one_by_one(meter: Meter, job: Job) -> None:
    for row in await every_number(meter):
        agents = row.get("inbound_agent_version_id") or row.get("outbound_agent_version_id")
        if not agents and not row.get("outbound_shareable"):
            await meter.gated("delete_phone_number", {"phone_number": row["phone_number"]})
    await every_number(meter)  # the check


async def move_one_by_one(meter: Meter, job: Job) -> None:
    restore: dict[tuple[str, int, str], list[str]] = {}
    for row in await every_number(meter, trunk_id=job.old):
        phone = row["phone_number"]
        await meter.gated("delete_phone_number", {"phone_number": phone})
        shareable = row.get("outbound_shareable", False)
        await meter.call(
            "register_phone_number", {"phone_number": phone, "trunk_id": job.new, "outbound_shareable": shareable}
        )
        inbound, outbound = row.get("inbound_agent_version_id"), row.get("outbound_agent_version_id")
        sides = (
            [("both", inbound)] if inbound and inbound == outbound else [("inbound", inbound), ("outbound", outbound)]
        )
        for direction, slot in sides:
            if slot:
                agent_id, version = job.agents[slot]
                restore.setdefault((agent_id, version, direction), []).append(phone)
    for (agent_id, version, direction), phones in restore.items():
        arguments = {"agent_id": agent_id, "version": version, "phone_numbers": phones, "direction": direction}
        await meter.gated("assign_agent_to_numbers", arguments)
    await every_number(meter, trunk_id=job.new)  # the check


async def change_set(meter: Meter, operation: dict[str, Any]) -> None:
    """plan_changes (which hands a client that cannot be asked the token), apply_changes, plan again."""
    plan = await meter.call("plan_changes", {"operations": [operation]})
    done = await meter.call(
        "apply_changes", {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
    )
    assert done["status"] == "done", done
    again = await meter.call("plan_changes", {"operations": [operation]})
    assert again["plan_id"] is None, again


async def delete_unused_as_a_change_set(meter: Meter, job: Job) -> None:
    await change_set(meter, {"op": "delete_numbers", "unused": True})


async def move_as_a_change_set(meter: Meter, job: Job) -> None:
    await change_set(meter, {"op": "move_numbers", "to_trunk_id": job.new, "from_trunk_id": job.old})


Outcome = list[tuple[str, bool, object, object, bool]]


async def measure(work: Callable[[Meter, Job], Awaitable[None]]) -> tuple[Meter, Outcome]:
    """Run one way of doing a job on a fresh account; answer its meter and the numbers it left."""
    sandbox, new = account()
    job = Job(old=sandbox.seed.demo.byoc_trunk_id, new=new, agents=agents_of(sandbox))
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with AnyreachClient("http://sandbox.test", sandbox.seed.demo.api_key, transport=transport) as api:
        server = build_server(Settings(sandbox=True), api, sandbox=True)
        async with Client(server, cache=None) as client:
            meter = Meter(client)
            await work(meter, job)
        # Ids differ from sandbox to sandbox; which agent (by seed position) and version do not.
        order = {agent_id: index for index, agent_id in enumerate(sandbox.seed.demo.agent_ids)}
        slot = {version_id: (order[agent_id], number) for version_id, (agent_id, number) in job.agents.items()}
        left: Outcome = sorted(
            [
                (
                    n.phone_number,
                    n.trunk_id == new,
                    slot.get(n.inbound_agent_version_id or ""),
                    slot.get(n.outbound_agent_version_id or ""),
                    n.outbound_shareable,
                )
                async for n in api.phone_numbers.iter()
            ],
            key=str,
        )
    return meter, left


JOBS: dict[str, tuple[Callable[[Meter, Job], Awaitable[None]], Callable[[Meter, Job], Awaitable[None]]]] = {
    "delete every unused number": (delete_unused_one_by_one, delete_unused_as_a_change_set),
    "move all numbers of a trunk": (move_one_by_one, move_as_a_change_set),
}


async def main(figures: Figures) -> None:
    print(f"{NUMBERS} numbers on one BYOC trunk; a client without elicitation (token flow)\n")
    print(f"{'job':<30} {'way':<18} {'calls':>6} {'result chars':>13}  calls per tool")
    for name, (single, changes) in JOBS.items():
        one, one_left = await measure(single)
        batch, batch_left = await measure(changes)
        if one_left != batch_left:
            raise RuntimeError(f"{name}: the two ways left different accounts: {set(one_left) ^ set(batch_left)}")
        for way, meter in (("single-call tools", one), ("change set", batch)):
            tools = ", ".join(f"{tool} {count}" for tool, count in meter.by_tool.items())
            print(f"{name:<30} {way:<18} {meter.calls:>6} {meter.characters:>13,}  {tools}")
        figures.add(f"{name}: single-call tools", one.calls, f"{one.calls} calls, {one.characters:,} characters")
        figures.add(
            f"{name}: change set, calls",
            batch.calls,
            f"{batch.calls} (single-call tools: {one.calls})",
            f"≤ {MAX_CALLS}",
            batch.calls <= MAX_CALLS,
        )
        figures.add(
            f"{name}: change set, result characters",
            batch.characters,
            f"{batch.characters:,} (single-call tools: {one.characters:,})",
            f"< {MAX_CHARACTERS:,}",
            batch.characters < MAX_CHARACTERS,
        )


if __name__ == "__main__":
    parsed = arguments(__doc__).parse_args()
    if parsed.quick:  # fewer numbers, so that a check that the script works takes seconds
        NUMBERS = 30
    logging.disable(logging.WARNING)
    run("jobs.py", parsed, lambda figures: anyio.run(main, figures))
