from __future__ import annotations

import httpx2

from mcp_anyreach.sandbox import Sandbox

from .sandbox_helpers import key, pat, read_only

PATH = "/core/inbound-routing-config"


async def test_no_config_reads_as_null(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.get(PATH, headers=read_only(sandbox.seed.demo))
    assert (response.status_code, response.json()) == (200, None)


async def test_create_read_update_delete_a_config(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    headers = key(sandbox.seed.demo)
    body: dict[str, object] = {
        "workflow_id": "wf_router",
        "workflow_version": 2,
        "fallback_agent_id": sandbox.seed.demo.agent_ids[0],
    }
    created = await client.post(PATH, headers=headers, json=body)
    assert created.status_code == 201
    assert created.json()["enabled"] is True
    assert (await client.get(PATH, headers=headers)).json() == created.json()
    updated = await client.put(PATH, headers=headers, json={"enabled": False})
    assert updated.status_code == 200
    assert {key: updated.json()[key] for key in ("enabled", "workflow_id", "workflow_version")} == {
        "enabled": False,
        "workflow_id": "wf_router",
        "workflow_version": 2,
    }
    deleted = await client.delete(PATH, headers=headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await client.get(PATH, headers=headers)).json() is None


async def test_a_second_config_conflicts(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    body: dict[str, object] = {"workflow_definition": {"steps": []}}
    assert (await client.post(PATH, headers=key(sandbox.seed.demo), json=body)).status_code == 201
    assert (await client.post(PATH, headers=key(sandbox.seed.demo), json=body)).status_code == 409


async def test_update_and_delete_without_a_config_answer_404(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    assert (await client.put(PATH, headers=key(sandbox.seed.demo), json={"enabled": False})).status_code == 404
    assert (await client.delete(PATH, headers=key(sandbox.seed.demo))).status_code == 404


async def test_create_needs_exactly_one_workflow_kind(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    bodies: list[dict[str, object]] = [
        {},
        {"workflow_id": "wf", "workflow_definition": {}},
        {"workflow_version": 1, "workflow_definition": {}},
    ]
    for body in bodies:
        assert (await client.post(PATH, headers=key(sandbox.seed.demo), json=body)).status_code == 422


async def test_switching_to_an_inline_definition_clears_the_workflow_id(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    headers = pat(sandbox.seed.demo)
    await client.post(PATH, headers=headers, json={"workflow_id": "wf", "workflow_version": 3})
    updated = (await client.put(PATH, headers=headers, json={"workflow_definition": {"steps": [1]}})).json()
    assert (updated["workflow_id"], updated["workflow_version"]) == (None, None)
    assert updated["workflow_definition"] == {"steps": [1]}
    cleared = await client.put(PATH, headers=headers, json={"workflow_definition": None})
    assert cleared.status_code == 422


async def test_configs_are_per_organization(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    await client.post(PATH, headers=key(sandbox.seed.demo), json={"workflow_id": "wf"})
    assert (await client.get(PATH, headers=key(sandbox.seed.other))).json() is None
    assert (await client.delete(PATH, headers=key(sandbox.seed.other))).status_code == 404
