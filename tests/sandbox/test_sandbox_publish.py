from __future__ import annotations

from typing import Any

import httpx2

from mcp_anyreach.sandbox import Sandbox

from .sandbox_helpers import key

BYOC = ("+12125550131", "+12125550132", "+13125550143")


async def publish(
    client: httpx2.AsyncClient, sandbox: Sandbox, agent: int, version: int, **body: Any
) -> httpx2.Response:
    agent_id = sandbox.seed.demo.agent_ids[agent]
    path = f"/core/agents/{agent_id}/versions/{version}/publish"
    return await client.post(path, headers=key(sandbox.seed.demo), json=body)


def version_id(sandbox: Sandbox, agent: int, version: int) -> str:
    demo = sandbox.seed.demo
    return sandbox.store.agents.version_id(demo.org_id, demo.agent_ids[agent], version)


async def test_publishing_assigns_the_inbound_slot_by_default(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    response = await publish(client, sandbox, 2, 3, phone_numbers=[BYOC[0], BYOC[2]])
    assert response.status_code == 200
    rows = response.json()
    assert [row["phone_number"] for row in rows] == [BYOC[0], BYOC[2]]
    assert {row["inbound_agent_version_id"] for row in rows} == {version_id(sandbox, 2, 3)}
    assert {row["outbound_agent_version_id"] for row in rows} == {None}


async def test_publishing_both_directions_sets_both_slots(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    row = (await publish(client, sandbox, 0, 1, phone_numbers=[BYOC[0]], direction="both")).json()[0]
    assert row["inbound_agent_version_id"] == row["outbound_agent_version_id"] == version_id(sandbox, 0, 1)


async def test_unassigning_clears_only_this_agents_slots(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    await publish(client, sandbox, 0, 1, phone_numbers=[BYOC[0]], direction="outbound")
    await publish(client, sandbox, 2, 1, phone_numbers=[BYOC[0]])
    rows = (await publish(client, sandbox, 0, 3, unassign_phone_numbers=[BYOC[0]], direction="both")).json()
    assert rows[0]["outbound_agent_version_id"] is None
    assert rows[0]["inbound_agent_version_id"] == version_id(sandbox, 2, 1)


async def test_unknown_agent_or_version_answers_404(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    assert (await publish(client, sandbox, 0, 9, phone_numbers=[BYOC[0]])).status_code == 404
    path = "/core/agents/agt_missing/versions/1/publish"
    assert (await client.post(path, headers=key(sandbox.seed.demo), json={})).status_code == 404
    other_agent = sandbox.seed.other.agent_ids[0]
    path = f"/core/agents/{other_agent}/versions/1/publish"
    assert (await client.post(path, headers=key(sandbox.seed.demo), json={})).status_code == 404


async def test_numbers_outside_the_org_fail_the_whole_publish(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    response = await publish(client, sandbox, 2, 2, phone_numbers=[BYOC[0], "+12065550121", "+15125550100"])
    assert response.status_code == 404
    assert "+12065550121" in response.json()["detail"]
    assert "+15125550100" in response.json()["detail"]
    row = (await client.get(f"/core/phone-numbers/{BYOC[0]}", headers=key(sandbox.seed.demo))).json()
    assert row["inbound_agent_version_id"] is None


async def test_a_bad_direction_is_refused_with_422(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    assert (await publish(client, sandbox, 0, 1, phone_numbers=[BYOC[0]], direction="sideways")).status_code == 422
