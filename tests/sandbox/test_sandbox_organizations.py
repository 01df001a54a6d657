"""One user's personal access token acts in each organization the user belongs to, chosen by X-Anyreach-Org."""

from __future__ import annotations

from typing import Any

import httpx2

from mcp_anyreach.sandbox import DemoOrg, DemoUser, Sandbox

from .sandbox_helpers import key


def as_member(user: DemoUser, org: DemoOrg | str) -> dict[str, str]:
    org_id = org if isinstance(org, str) else org.org_id
    return {"Authorization": f"Bearer {user.pat}", "X-Anyreach-Org": org_id}


async def listed(client: httpx2.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_demo_user_belongs_to_both_demo_organizations(sandbox: Sandbox) -> None:
    seed = sandbox.seed
    assert seed.user.organization_ids == (seed.demo.org_id, seed.other.org_id)
    assert seed.user.pat.startswith("pat_")
    assert seed.user.pat not in (seed.demo.pat, seed.other.pat)


async def test_one_personal_token_sees_each_organizations_numbers_trunks_and_agents_by_its_header(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    user = sandbox.seed.user
    for org in (sandbox.seed.demo, sandbox.seed.other):
        for path in ("/core/phone-numbers", "/core/trunks", "/core/agents"):
            seen = await listed(client, path, as_member(user, org))
            assert seen
            assert seen == await listed(client, path, key(org))
            assert {row.get("organization_id", org.org_id) for row in seen} == {org.org_id}


async def test_the_routing_config_a_personal_token_sees_is_the_one_of_the_organization_it_names(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo, other, user = sandbox.seed.demo, sandbox.seed.other, sandbox.seed.user
    body = {"workflow_id": "wf"}
    created = await client.post("/core/inbound-routing-config", headers=as_member(user, demo), json=body)
    assert created.status_code == 201
    assert await listed(client, "/core/inbound-routing-config", as_member(user, other)) is None
    assert (await listed(client, "/core/inbound-routing-config", key(demo)))["workflow_id"] == "wf"


async def test_a_move_or_delete_through_one_organization_cannot_touch_the_others_number(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo, other, user = sandbox.seed.demo, sandbox.seed.other, sandbox.seed.user
    theirs = "+12065550121"
    before = await listed(client, f"/core/phone-numbers/{theirs}", key(other))
    attempts: list[tuple[str, str, dict[str, object] | None]] = [
        ("DELETE", f"/core/phone-numbers/{theirs}", None),
        ("PATCH", f"/core/phone-numbers/{theirs}", {"outbound_shareable": False}),
        ("POST", "/core/phone-numbers", {"phone_number": theirs, "trunk_id": demo.byoc_trunk_id}),
        ("POST", f"/core/agents/{demo.agent_ids[0]}/versions/1/publish", {"phone_numbers": [theirs]}),
        ("DELETE", f"/core/trunks/{other.byoc_trunk_id}", None),
    ]
    statuses: list[int] = []
    for method, path, body in attempts:
        response = await client.request(method, path, headers=as_member(user, demo), json=body)
        statuses.append(response.status_code)
    assert statuses == [404, 404, 409, 404, 404]
    assert await listed(client, f"/core/phone-numbers/{theirs}", key(other)) == before
    assert (await client.delete(f"/core/phone-numbers/{theirs}", headers=as_member(user, other))).status_code == 204


async def test_a_personal_token_is_refused_with_403_for_an_organization_its_user_is_not_in(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    stranger = sandbox.store.organizations.create("Not Our Co")
    for org_id in (stranger, "org_does_not_exist"):
        response = await client.delete("/core/phone-numbers/+14155550101", headers=as_member(sandbox.seed.user, org_id))
        assert response.status_code == 403
        assert response.json() == {
            "detail": f"The user of this personal access token is not a member of organization {org_id}; "
            "set X-Anyreach-Org to an organization the user belongs to"
        }
    assert (await client.get("/core/phone-numbers/+14155550101", headers=key(sandbox.seed.demo))).status_code == 200


async def test_a_personal_token_of_a_one_organization_user_is_refused_in_the_other(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo, other = sandbox.seed.demo, sandbox.seed.other
    headers = {"Authorization": f"Bearer {demo.pat}", "X-Anyreach-Org": other.org_id}
    response = await client.get("/core/phone-numbers", headers=headers)
    assert response.status_code == 403
    assert other.org_id in response.json()["detail"]


async def test_a_personal_token_without_the_header_is_refused_with_401_naming_the_header(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    response = await client.get("/core/phone-numbers", headers={"Authorization": f"Bearer {sandbox.seed.user.pat}"})
    assert response.status_code == 401
    assert "X-Anyreach-Org" in response.json()["detail"]


async def test_an_api_key_stays_in_its_own_organization_whatever_the_header_names(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    demo, other = sandbox.seed.demo, sandbox.seed.other
    own = await listed(client, "/core/phone-numbers", {**key(demo), "X-Anyreach-Org": demo.org_id})
    assert {row["organization_id"] for row in own} == {demo.org_id}
    for token in (demo.api_key, demo.read_only_key):
        headers = {"Authorization": f"Bearer {token}", "X-Anyreach-Org": other.org_id}
        response = await client.get("/core/phone-numbers", headers=headers)
        assert response.status_code == 403
        assert response.json() == {
            "detail": f"This API key acts only in its own organization {demo.org_id}, not in {other.org_id}; "
            "drop X-Anyreach-Org, or use a personal access token of a member of that organization"
        }
