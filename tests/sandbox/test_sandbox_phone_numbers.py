from __future__ import annotations

import httpx2

from mcp_anyreach.sandbox import Sandbox

from .sandbox_helpers import key, pat


async def register(client: httpx2.AsyncClient, sandbox: Sandbox, number: str, **extra: object) -> httpx2.Response:
    demo = sandbox.seed.demo
    body = {"phone_number": number, "trunk_id": demo.byoc_trunk_id, **extra}
    return await client.post("/core/phone-numbers", headers=key(demo), json=body)


async def test_registering_a_number_on_a_byoc_trunk_answers_201_with_the_row(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    response = await register(client, sandbox, "+15125550199", outbound_shareable=True)
    assert response.status_code == 201
    row = response.json()
    assert row["phone_number"] == "+15125550199"
    assert row["trunk_id"] == sandbox.seed.demo.byoc_trunk_id
    assert row["outbound_shareable"] is True
    assert row["inbound_agent_version_id"] is None
    assert row["organization_id"] == sandbox.seed.demo.org_id
    assert row["created_at"].endswith("Z")


async def test_getting_a_number_accepts_the_encoded_and_the_bare_plus(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    for path in ("/core/phone-numbers/%2B12125550131", "/core/phone-numbers/+12125550131"):
        response = await client.get(path, headers=pat(sandbox.seed.demo))
        assert response.status_code == 200
        assert response.json()["phone_number"] == "+12125550131"


async def test_an_invalid_number_is_refused_with_422(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    for bad in ("+1555", "4155550123", "+1 415 555 01234", "+19995550123"):
        response = await register(client, sandbox, bad)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "phone_number"]


async def test_registering_on_an_unknown_trunk_answers_404(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    body = {"phone_number": "+15125550199", "trunk_id": "no-such-trunk"}
    response = await client.post("/core/phone-numbers", headers=key(sandbox.seed.demo), json=body)
    assert response.status_code == 404


async def test_registering_on_a_managed_trunk_answers_400(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo = sandbox.seed.demo
    body = {"phone_number": "+15125550199", "trunk_id": demo.managed_trunk_ids[0]}
    response = await client.post("/core/phone-numbers", headers=key(demo), json=body)
    assert response.status_code == 400
    assert "managed" in response.json()["detail"]


async def test_a_number_held_by_any_organization_conflicts(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    own = await register(client, sandbox, "+12125550131")
    others = await register(client, sandbox, "+12065550121")
    assert (own.status_code, others.status_code) == (409, 409)
    assert sandbox.seed.other.org_id not in others.text


async def test_the_per_org_number_limit_answers_400(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    # the fixture's limit is 12 and the demo org holds 5
    statuses = [(await register(client, sandbox, f"+1512555{line:04d}")).status_code for line in range(200, 208)]
    assert statuses == [201] * 7 + [400]


async def test_patch_toggles_outbound_shareable(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    path = "/core/phone-numbers/%2B12125550132"
    response = await client.patch(path, headers=key(sandbox.seed.demo), json={"outbound_shareable": True})
    assert response.status_code == 200
    assert response.json()["outbound_shareable"] is True
    assert response.json()["updated_at"] >= response.json()["created_at"]


async def test_patch_refuses_any_other_field_with_422(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    body = {"outbound_shareable": True, "trunk_id": sandbox.seed.demo.byoc_trunk_id}
    response = await client.patch("/core/phone-numbers/%2B12125550132", headers=key(sandbox.seed.demo), json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "extra_forbidden"


async def test_delete_answers_204_without_a_body_then_404(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    path = "/core/phone-numbers/%2B12125550132"
    first = await client.delete(path, headers=key(sandbox.seed.demo))
    assert (first.status_code, first.content) == (204, b"")
    assert (await client.delete(path, headers=key(sandbox.seed.demo))).status_code == 404
    assert (await client.get(path, headers=key(sandbox.seed.demo))).status_code == 404


async def test_another_organizations_number_is_invisible_and_untouchable(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    path = "/core/phone-numbers/%2B12065550121"
    demo = key(sandbox.seed.demo)
    assert (await client.get(path, headers=demo)).status_code == 404
    assert (await client.patch(path, headers=demo, json={"outbound_shareable": True})).status_code == 404
    assert (await client.delete(path, headers=demo)).status_code == 404
    listed = (await client.get("/core/phone-numbers", headers=demo, params={"phone_number": "206"})).json()
    assert listed == []
    assert (await client.get(path, headers=key(sandbox.seed.other))).json()["outbound_shareable"] is True
