"""Org isolation under concurrency: two organizations' pipelines run at once on one backend, each through its own
server and credential, and neither ever sees or touches the other's numbers, trunks, agents or routing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp_types import CallToolResult

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import DemoOrg, Sandbox, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from tests.reliability.live import data, texts
from tests.server.conftest import sandbox_api

ROUNDS = 4
PIPELINE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Org:
    seed: DemoOrg
    new_numbers: tuple[str, ...]
    credential: tuple[str, str | None]  # token, org id (a pat_ token needs it)
    seeded_number: str


@dataclass
class Pipeline:
    org: Org
    foreign: Org
    seen: list[str] = field(default_factory=list[str])
    trunks_created: list[str] = field(default_factory=list[str])
    refused: list[str] = field(default_factory=list[str])

    async def call(self, client: Client, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        """A call of the pipeline's own; its result is checked for foreign ids afterwards."""
        result = await client.call_tool(tool, arguments)
        self.seen.append(result.model_dump_json())
        return result

    async def refuse(self, client: Client, tool: str, arguments: dict[str, Any]) -> None:
        """A call naming the other org's object: its error may echo the id given, nothing more."""
        result = await client.call_tool(tool, arguments)
        assert result.is_error, f"{tool} on the other org's object was not refused: {texts(result)}"
        self.refused.append(texts(result))


def orgs(sandbox: Sandbox) -> tuple[Org, Org]:
    demo, other = sandbox.seed.demo, sandbox.seed.other
    return (
        Org(demo, tuple(f"+1312555016{i}" for i in range(ROUNDS)), (demo.api_key, None), "+12125550131"),
        Org(other, tuple(f"+1206555016{i}" for i in range(ROUNDS)), (other.pat, other.org_id), "+12065550121"),
    )


def foreign_ids(org: Org) -> list[str]:
    seed = org.seed
    return [
        seed.org_id,
        seed.byoc_trunk_id,
        *seed.managed_trunk_ids,
        *seed.agent_ids,
        org.seeded_number,
        *org.new_numbers,
    ]


@asynccontextmanager
async def server_for(sandbox: Sandbox, org: Org) -> AsyncIterator[Client]:
    token, org_id = org.credential
    async with sandbox_api(sandbox, token, org_id) as api:
        server = build_server(Settings.model_validate({"no_confirm": True}), api, sandbox=True)
        async with Client(server, cache=None) as client:  # type: ignore[arg-type]
            yield client


async def run_pipeline(sandbox: Sandbox, pipeline: Pipeline) -> None:
    """Each round: list, register a number on the own BYOC trunk, create a trunk, route, assign, and poke the
    other org's objects by id (every poke must be refused)."""
    own, theirs = pipeline.org.seed, pipeline.foreign.seed
    agent = own.agent_ids[0]
    async with server_for(sandbox, pipeline.org) as client:
        for index, number in enumerate(pipeline.org.new_numbers):
            data(await pipeline.call(client, "list_phone_numbers", {"limit": 100}))
            data(await pipeline.call(client, "list_trunks", {"limit": 100}))
            registered = {"phone_number": number, "trunk_id": own.byoc_trunk_id}
            data(await pipeline.call(client, "register_phone_number", registered))
            created = data(await pipeline.call(client, "create_trunk", {"name": f"{own.name} {index}"}))
            pipeline.trunks_created.append(created["result"]["id"])
            assignment = {"agent_id": agent, "version": 2, "phone_numbers": [number]}
            assert data(await pipeline.call(client, "assign_agent_to_numbers", assignment))["status"] == "done"
            routing = "create" if index == 0 else "update"
            route = {"workflow_id": f"wf_{own.org_id}_{index}", "fallback_agent_id": agent}
            assert data(await pipeline.call(client, f"{routing}_inbound_routing_config", route))["status"] == "done"
            data(await pipeline.call(client, "get_inbound_routing_config", {}))
            data(await pipeline.call(client, "audit_inventory", {"min_severity": "info"}))
            await poke_the_other_org(client, pipeline, theirs, index)


async def poke_the_other_org(client: Client, pipeline: Pipeline, theirs: DemoOrg, index: int) -> None:
    their_number = pipeline.foreign.new_numbers[index - 1] if index else pipeline.foreign.seeded_number
    for tool, arguments in [
        ("get_trunk", {"trunk_id": theirs.byoc_trunk_id}),
        ("get_trunk", {"trunk_id": theirs.managed_trunk_ids[0]}),
        ("get_phone_number", {"phone_number": their_number}),
        ("update_phone_number", {"phone_number": their_number, "outbound_shareable": True}),
        ("delete_phone_number", {"phone_number": their_number}),
        ("update_trunk", {"trunk_id": theirs.byoc_trunk_id, "name": "taken over"}),
        ("delete_trunk", {"trunk_id": theirs.byoc_trunk_id}),
        ("register_phone_number", {"phone_number": f"+1415555019{index}", "trunk_id": theirs.byoc_trunk_id}),
        ("assign_agent_to_numbers", {"agent_id": theirs.agent_ids[0], "version": 1, "phone_numbers": [their_number]}),
    ]:
        await pipeline.refuse(client, tool, arguments)


async def snapshot(sandbox: Sandbox, org: Org) -> dict[str, Any]:
    """What the org owns, read straight from the sandbox with its own credential."""
    token, org_id = org.credential
    async with AnyreachClient("http://sandbox.test", token, org_id, transport=httpx2.ASGITransport(sandbox.app)) as api:
        numbers = {n.phone_number: n.model_dump(mode="json") async for n in api.phone_numbers.iter()}
        trunks = {t.id: t.name async for t in api.trunks.iter()}
        routing = await api.inbound_routing.get()
    return {
        "numbers": numbers,
        "trunks": trunks,
        "routing": None if routing is None else routing.model_dump(mode="json"),
    }


async def test_two_orgs_pipelines_running_at_once_never_see_or_touch_each_others_objects() -> None:
    sandbox = open_sandbox(":memory:")
    demo, other = orgs(sandbox)
    pipelines = [Pipeline(demo, other), Pipeline(other, demo)]

    with anyio.fail_after(PIPELINE_TIMEOUT):
        async with anyio.create_task_group() as group:
            for pipeline in pipelines:
                group.start_soon(run_pipeline, sandbox, pipeline)
        after = {pipeline.org.seed.org_id: await snapshot(sandbox, pipeline.org) for pipeline in pipelines}

    for pipeline in pipelines:
        seen = "\n".join(pipeline.seen)
        leaked = [value for value in foreign_ids(pipeline.foreign) if value in seen]
        leaked += [
            trunk for other in pipelines if other is not pipeline for trunk in other.trunks_created if trunk in seen
        ]
        assert leaked == [], f"{pipeline.org.seed.name} saw the other org's {leaked}"
        assert all("not found" in text.lower() or "find" in text.lower() for text in pipeline.refused)

        mine = after[pipeline.org.seed.org_id]
        assert set(pipeline.org.new_numbers) <= set(mine["numbers"])
        assert {pipeline.org.seed.byoc_trunk_id, *pipeline.trunks_created} <= set(mine["trunks"])
        assert pipeline.org.seed.name in mine["trunks"][pipeline.trunks_created[0]]
        assert mine["routing"]["fallback_agent_id"] == pipeline.org.seed.agent_ids[0]
        assert mine["routing"]["workflow_id"] == f"wf_{pipeline.org.seed.org_id}_{ROUNDS - 1}"
        for number in pipeline.org.new_numbers:
            assert mine["numbers"][number]["outbound_shareable"] is False, "the other org's update never landed"
        assert not [n for n in mine["numbers"] if n.startswith("+1415555019")], "nothing registered on a foreign trunk"
        assert json.dumps(mine).count(pipeline.foreign.seed.org_id) == 0
