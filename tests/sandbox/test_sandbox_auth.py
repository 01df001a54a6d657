from __future__ import annotations

import httpx2
import pytest

from mcp_anyreach.sandbox import Sandbox

from .sandbox_helpers import key, pat, read_only


async def test_an_api_key_lists_its_organizations_numbers(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.get("/core/phone-numbers", headers=key(sandbox.seed.demo))
    assert response.status_code == 200
    assert {row["organization_id"] for row in response.json()} == {sandbox.seed.demo.org_id}


async def test_a_personal_token_with_its_org_header_is_accepted(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.get("/core/trunks", headers=pat(sandbox.seed.demo))
    assert response.status_code == 200
    assert len(response.json()) == 2


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer sk_not_ours"},
        {"Authorization": "Bearer ak_unknown"},
    ],
    ids=["missing", "empty", "basic", "foreign-format", "unknown"],
)
async def test_requests_without_a_valid_token_are_refused_with_401(
    client: httpx2.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/core/phone-numbers", headers=headers)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


async def test_a_personal_token_without_an_org_header_is_refused(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {sandbox.seed.demo.pat}"}
    response = await client.get("/core/phone-numbers", headers=headers)
    assert response.status_code == 401
    assert "X-Anyreach-Org" in response.json()["detail"]


async def test_a_personal_token_cannot_name_an_organization_its_user_is_not_in(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    headers = {**pat(sandbox.seed.demo), "X-Anyreach-Org": sandbox.seed.other.org_id}
    response = await client.get("/core/phone-numbers", headers=headers)
    assert response.status_code == 403


async def test_a_read_only_key_reads_but_cannot_manage(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo = sandbox.seed.demo
    assert (await client.get("/core/trunks", headers=read_only(demo))).status_code == 200
    response = await client.delete(f"/core/trunks/{demo.byoc_trunk_id}", headers=read_only(demo))
    assert response.status_code == 403
    assert response.json() == {"detail": "Missing scope: trunks:manage"}


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/core/phone-numbers", "phone_numbers:manage"),
        ("POST", "/core/trunks", "trunks:manage"),
        ("POST", "/core/inbound-routing-config", "inbound_routing_configs:manage"),
        ("PUT", "/core/inbound-routing-config", "inbound_routing_configs:manage"),
        ("POST", "/core/agents/agt_x/versions/1/publish", "agents:manage"),
        ("POST", "/core/managed-accounts/ma_x/purchase-number", "managed_accounts:manage"),
    ],
)
async def test_every_write_names_the_scope_it_needs(
    client: httpx2.AsyncClient, sandbox: Sandbox, method: str, path: str, scope: str
) -> None:
    response = await client.request(method, path, headers=read_only(sandbox.seed.demo), json={})
    assert response.status_code == 403
    assert scope in response.json()["detail"]


async def test_scopes_are_exact_so_manage_does_not_imply_read(sandbox: Sandbox) -> None:
    token = "ak_manage_only"
    demo = sandbox.seed.demo
    sandbox.store.organizations.add_credential(demo.org_id, token, ("phone_numbers:manage",))
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        response = await http.get("/core/phone-numbers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["detail"] == "Missing scope: phone_numbers:read"


async def test_request_counts_record_the_methods_served(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    await client.get("/core/trunks", headers=key(sandbox.seed.demo))
    await client.get("/core/phone-numbers", headers=key(sandbox.seed.demo))
    await client.delete("/core/inbound-routing-config", headers=key(sandbox.seed.demo))
    assert sandbox.app.state.request_counts == {"GET": 2, "DELETE": 1}


async def test_the_openapi_document_describes_the_response_models(client: httpx2.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert {"PhoneNumber", "Trunk", "AvailableNumber", "InboundRoutingConfig"} <= set(schemas)
    assert "/core/agents/{agent_id}/versions/{version}/publish" in document["paths"]
