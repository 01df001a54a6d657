"""The agent directory: GET /core/agents, /core/agents/{id}, /core/agents/{id}/versions[/{version}]."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from mcp_anyreach.sandbox import DemoOrg, Sandbox

from .sandbox_helpers import key, read_only

SUPPORT, AFTER_HOURS, SALES, LEGACY, DEMO_RECEPTIONIST = range(5)


async def agents(client: httpx2.AsyncClient, org: DemoOrg, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/core/agents", headers=read_only(org), params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def names(client: httpx2.AsyncClient, org: DemoOrg, **params: Any) -> list[str]:
    return [agent["name"] for agent in await agents(client, org, **params)]


async def versions(client: httpx2.AsyncClient, org: DemoOrg, agent: int, **params: Any) -> list[dict[str, Any]]:
    path = f"/core/agents/{org.agent_ids[agent]}/versions"
    response = await client.get(path, headers=read_only(org), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def slots(detail: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [
        (row["phone_number"], row["inbound_agent_version_id"], row["outbound_agent_version_id"])
        for row in detail["phone_numbers"]
    ]


async def test_the_directory_lists_the_orgs_named_agents_oldest_first(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo = sandbox.seed.demo
    listed = await agents(client, demo)
    assert [agent["name"] for agent in listed] == ["Support", "After-hours", "Sales", "Legacy IVR", "Demo receptionist"]
    assert [agent["id"] for agent in listed] == list(demo.agent_ids)
    assert {agent["organization_id"] for agent in listed} == {demo.org_id}
    assert listed[0]["metadata"] == {"team": "support"}
    assert listed[0]["description"]


async def test_pages_of_agents_cover_each_agent_once(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo = sandbox.seed.demo
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        response = await client.get("/core/agents", headers=key(demo), params=params)
        page = [agent["id"] for agent in response.json()]
        assert 1 <= len(page) <= 2
        seen += page
        if "X-Next-Cursor" not in response.headers:
            break
        params["cursor"] = response.headers["X-Next-Cursor"]
    assert seen == list(demo.agent_ids)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "SUPP"}, ["Support"]),
        ({"name": "after-"}, ["After-hours"]),
        ({"name": "nobody"}, []),
        ({"active": "false"}, ["Legacy IVR"]),
        ({"is_demo": "true"}, ["Demo receptionist"]),
        ({"active": "true", "is_demo": "false"}, ["Support", "After-hours", "Sales"]),
        ({"metadata": '{"team": "support"}'}, ["Support", "After-hours", "Legacy IVR"]),
        ({"metadata": '{"team": "support", "shift": "night"}'}, ["After-hours"]),
        ({"metadata": '{"team": "support"}', "active": "false"}, ["Legacy IVR"]),
        ({"metadata": "{}"}, ["Support", "After-hours", "Sales", "Legacy IVR", "Demo receptionist"]),
        ({"metadata": '{"team": ["support"]}'}, []),
        ({"metadata": '{"nonexistent": null}'}, []),
    ],
)
async def test_agents_filter_by_name_flags_and_metadata(
    client: httpx2.AsyncClient, sandbox: Sandbox, params: dict[str, str], expected: list[str]
) -> None:
    assert await names(client, sandbox.seed.demo, **params) == expected


async def test_metadata_matches_values_of_every_json_type_exactly(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo = sandbox.seed.demo
    metadata = {"tier": 1, "ratio": 0.5, "vip": True, "note": None, "langs": ["en", "fr"], "owner": {"é": 1, "a": 2}}
    sandbox.store.agents.create(demo.org_id, "Typed", 1, metadata=metadata)
    for wanted in ({"tier": 1}, {"ratio": 0.5}, {"vip": True}, {"note": None}, {"langs": ["en", "fr"]}):
        assert await names(client, demo, metadata=json.dumps(wanted)) == ["Typed"], wanted
    assert await names(client, demo, metadata='{"owner": {"a": 2, "é": 1}}') == ["Typed"]
    for near_miss in ({"tier": True}, {"tier": "1"}, {"vip": 1}, {"langs": ["fr", "en"]}, {"owner": {"a": 2}}):
        assert await names(client, demo, metadata=json.dumps(near_miss)) == [], near_miss


async def test_metadata_integers_beyond_64_bits_are_compared_not_crashed_on(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo = sandbox.seed.demo
    sandbox.store.agents.create(demo.org_id, "Huge", 1, metadata={"serial": 10**30})
    assert await names(client, demo, metadata=json.dumps({"serial": 10**30})) == ["Huge"]
    assert await names(client, demo, metadata=json.dumps({"serial": 2**64})) == []
    assert await names(client, demo, metadata=json.dumps({"serial": 10**400})) == []


@pytest.mark.parametrize("metadata", ["team=support", "[1, 2]", '"support"', "{"])
async def test_metadata_that_is_not_a_json_object_is_refused_with_422(
    client: httpx2.AsyncClient, sandbox: Sandbox, metadata: str
) -> None:
    response = await client.get("/core/agents", headers=key(sandbox.seed.demo), params={"metadata": metadata})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "metadata"]


async def test_agents_filter_by_time_window(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo = sandbox.seed.demo
    seeded = await agents(client, demo)
    newest = max(agent["created_at"] for agent in seeded)
    sandbox.store.agents.create(demo.org_id, "Late", 1)
    assert await names(client, demo, created_after=newest) == ["Late"]
    assert "Late" not in await names(client, demo, created_before=newest)
    assert await names(client, demo, updated_after=newest) == ["Late"]


async def test_one_agent_shows_its_versions_and_the_numbers_on_each_slot(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo = sandbox.seed.demo
    support = (await client.get(f"/core/agents/{demo.agent_ids[SUPPORT]}", headers=read_only(demo))).json()
    assert support["name"] == "Support"
    assert [(v["version"], v["published"]) for v in support["versions"]] == [(1, True), (2, True), (3, False)]
    v2 = support["versions"][1]["id"]
    assert slots(support) == [("+14155550101", v2, None)]
    after_hours = (await client.get(f"/core/agents/{demo.agent_ids[AFTER_HOURS]}", headers=key(demo))).json()
    v1 = after_hours["versions"][0]["id"]
    assert slots(after_hours) == [("+12125550132", v1, v1)]
    sales = (await client.get(f"/core/agents/{demo.agent_ids[SALES]}", headers=key(demo))).json()
    assert sales["phone_numbers"] == []


async def test_a_number_answered_by_one_agent_and_dialling_out_as_another_shows_under_both(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo = sandbox.seed.demo
    sandbox.store.agents.publish(demo.org_id, demo.agent_ids[SALES], 1, ["+14155550101"], [], "outbound")
    for agent in (SUPPORT, SALES):
        detail = (await client.get(f"/core/agents/{demo.agent_ids[agent]}", headers=key(demo))).json()
        assert [row["phone_number"] for row in detail["phone_numbers"]] == ["+14155550101"]


async def test_versions_list_in_order_and_filter_by_number_and_published(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo = sandbox.seed.demo
    listed = await versions(client, demo, SUPPORT)
    assert [(v["version"], v["published"]) for v in listed] == [(1, True), (2, True), (3, False)]
    assert {v["agent_id"] for v in listed} == {demo.agent_ids[SUPPORT]}
    assert [v["version"] for v in await versions(client, demo, SUPPORT, published="false")] == [3]
    assert [v["version"] for v in await versions(client, demo, SUPPORT, published="true")] == [1, 2]
    assert [v["id"] for v in await versions(client, demo, SUPPORT, version=2)] == [listed[1]["id"]]
    assert await versions(client, demo, SUPPORT, version=9) == []


async def test_versions_page_with_a_cursor(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo = sandbox.seed.demo
    path = f"/core/agents/{demo.agent_ids[SALES]}/versions"
    first = await client.get(path, headers=key(demo), params={"limit": 2})
    assert [v["version"] for v in first.json()] == [1, 2]
    cursor = first.headers["X-Next-Cursor"]
    rest = await client.get(path, headers=key(demo), params={"limit": 2, "cursor": cursor})
    assert [v["version"] for v in rest.json()] == [3]
    assert "X-Next-Cursor" not in rest.headers


async def test_publishing_a_draft_marks_it_published_and_updated(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo = sandbox.seed.demo
    before = await versions(client, demo, DEMO_RECEPTIONIST)
    assert [v["published"] for v in before] == [False, False, False]
    path = f"/core/agents/{demo.agent_ids[DEMO_RECEPTIONIST]}/versions/2/publish"
    assert (await client.post(path, headers=key(demo), json={})).status_code == 200
    after = await versions(client, demo, DEMO_RECEPTIONIST)
    assert [v["published"] for v in after] == [False, True, False]
    assert after[1]["updated_at"] > before[1]["updated_at"]
    touched = await versions(client, demo, DEMO_RECEPTIONIST, updated_after=before[1]["updated_at"])
    assert [v["version"] for v in touched] == [2]


async def test_one_version_by_number(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo = sandbox.seed.demo
    path = f"/core/agents/{demo.agent_ids[SALES]}/versions/2"
    version = (await client.get(path, headers=read_only(demo))).json()
    assert (version["version"], version["published"]) == (2, True)
    assert version["id"] == sandbox.store.agents.version_id(demo.org_id, demo.agent_ids[SALES], 2)


async def test_latest_answers_the_newest_draft_without_creating_one_when_a_draft_exists(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo = sandbox.seed.demo
    path = f"/core/agents/{demo.agent_ids[SUPPORT]}/versions/latest"
    latest = (await client.get(path, headers=read_only(demo))).json()
    assert (latest["version"], latest["published"]) == (3, False)
    assert len(await versions(client, demo, SUPPORT)) == 3


async def test_latest_creates_a_draft_when_every_version_is_published(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    """The vendor documents this read as a write in disguise; the sandbox does the same, so that a client that
    calls it from a read path is caught by the tests."""
    demo = sandbox.seed.demo
    path = f"/core/agents/{demo.agent_ids[LEGACY]}/versions/latest"
    created = (await client.get(path, headers=read_only(demo))).json()
    assert (created["version"], created["published"]) == (4, False)
    again = (await client.get(path, headers=read_only(demo))).json()
    assert again["id"] == created["id"]
    assert [v["version"] for v in await versions(client, demo, LEGACY)] == [1, 2, 3, 4]


@pytest.mark.parametrize("version", ["0", "newest", "-1", str(2**31)])
async def test_a_version_that_is_neither_a_number_nor_latest_is_refused_with_422(
    client: httpx2.AsyncClient, sandbox: Sandbox, version: str
) -> None:
    demo = sandbox.seed.demo
    response = await client.get(f"/core/agents/{demo.agent_ids[SALES]}/versions/{version}", headers=key(demo))
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/core/agents/{agent}",
        "/core/agents/{agent}/versions",
        "/core/agents/{agent}/versions/1",
        "/core/agents/{agent}/versions/latest",
    ],
)
@pytest.mark.parametrize("whose", ["missing", "other-org"])
async def test_an_agent_that_is_absent_or_another_orgs_answers_404(
    client: httpx2.AsyncClient, sandbox: Sandbox, path: str, whose: str
) -> None:
    agent = "agt_missing" if whose == "missing" else sandbox.seed.other.agent_ids[SUPPORT]
    response = await client.get(path.format(agent=agent), headers=key(sandbox.seed.demo))
    assert response.status_code == 404
    assert agent in response.json()["detail"]
    other = sandbox.seed.other
    assert [v["version"] for v in await versions(client, other, SUPPORT)] == [1, 2, 3]


async def test_a_missing_version_of_an_own_agent_answers_404(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo = sandbox.seed.demo
    response = await client.get(f"/core/agents/{demo.agent_ids[SALES]}/versions/7", headers=key(demo))
    assert response.status_code == 404


async def test_each_org_lists_only_its_own_agents(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo, other = sandbox.seed.demo, sandbox.seed.other
    assert [agent["id"] for agent in await agents(client, other)] == list(other.agent_ids)
    assert set(demo.agent_ids).isdisjoint(other.agent_ids)
    assert [agent["id"] for agent in await agents(client, demo, name="Support")] == [demo.agent_ids[SUPPORT]]


@pytest.mark.parametrize("scopes", [("agents:read",), ("agents:manage",)])
async def test_either_agents_scope_reads_the_directory(
    client: httpx2.AsyncClient, sandbox: Sandbox, scopes: tuple[str, ...]
) -> None:
    demo = sandbox.seed.demo
    sandbox.store.organizations.add_credential(demo.org_id, "ak_agents_only", scopes)
    headers = {"Authorization": "Bearer ak_agents_only"}
    for path in ("/core/agents", f"/core/agents/{demo.agent_ids[0]}", f"/core/agents/{demo.agent_ids[0]}/versions"):
        assert (await client.get(path, headers=headers)).status_code == 200, path


async def test_a_key_without_an_agents_scope_cannot_read_the_directory(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo = sandbox.seed.demo
    sandbox.store.organizations.add_credential(demo.org_id, "ak_numbers_only", ("phone_numbers:read",))
    headers = {"Authorization": "Bearer ak_numbers_only"}
    for path in ("/core/agents", f"/core/agents/{demo.agent_ids[0]}", f"/core/agents/{demo.agent_ids[0]}/versions"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing scope: agents:read or agents:manage"}
