from __future__ import annotations

from typing import Any

import httpx2
import pytest

from mcp_anyreach.sandbox import Sandbox

from .sandbox_helpers import key

SECRET_IN = "in-Secret-4242"
SECRET_OUT = "out-Secret-4242"


def byoc_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Warehouse PBX",
        "inbound_config": {
            "allowed_addresses": ["192.0.2.7", "2001:db8::/32"],
            "allowed_numbers": ["+14155550123"],
            "auth_username": "warehouse",
            "auth_password": SECRET_IN,
        },
        "outbound_config": {
            "address": "sip.warehouse.example.com:5060",
            "auth_username": "warehouse-out",
            "auth_password": SECRET_OUT,
            "transport": "TCP",
            "headers": {"X-Site": "north"},
        },
    }
    return {**body, **overrides}


async def create(client: httpx2.AsyncClient, sandbox: Sandbox, body: dict[str, Any]) -> httpx2.Response:
    return await client.post("/core/trunks", headers=key(sandbox.seed.demo), json=body)


async def test_creating_a_byoc_trunk_answers_201_without_its_passwords(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    response = await create(client, sandbox, byoc_body())
    assert response.status_code == 201
    trunk = response.json()
    assert trunk["managed_account_id"] is None
    assert trunk["inbound_config"]["auth_password"] is None
    assert trunk["inbound_config"]["auth_password_set"] is True
    assert trunk["outbound_config"]["auth_password_set"] is True
    assert trunk["outbound_config"]["transport"] == "TCP"
    assert SECRET_IN not in response.text
    assert SECRET_OUT not in response.text


async def test_no_response_ever_carries_a_stored_password(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    created = (await create(client, sandbox, byoc_body())).json()
    headers = key(sandbox.seed.demo)
    responses = [
        await client.get("/core/trunks", headers=headers),
        await client.get(f"/core/trunks/{created['id']}", headers=headers),
        await client.put(f"/core/trunks/{created['id']}", headers=headers, json={"name": "renamed"}),
        await create(client, sandbox, byoc_body(inbound_config={"auth_password": SECRET_IN})),
        await create(client, sandbox, byoc_body(name="")),
    ]
    assert [response.status_code for response in responses] == [200, 200, 200, 422, 422]
    for response in responses:
        assert SECRET_IN not in response.text
        assert SECRET_OUT not in response.text


@pytest.mark.parametrize(
    ("config", "field", "value"),
    [
        ("outbound_config", "address", "sip:pbx.example.com"),
        ("outbound_config", "address", "pbx.example.com;transport=tcp"),
        ("outbound_config", "address", "pbx example.com"),
        ("outbound_config", "address", "pbx.example.com:99999"),
        ("outbound_config", "auth_username", "bob<script>"),
        ("outbound_config", "headers", {"Via": "x"}),
        ("outbound_config", "headers", {"X-Evil": "a\r\nInjected: 1"}),
        ("outbound_config", "transport", "SCTP"),
        ("inbound_config", "allowed_addresses", ["10.0.0.0/33"]),
        ("inbound_config", "allowed_addresses", ["not-an-ip"]),
        ("inbound_config", "allowed_numbers", ["0800 123"]),
        ("inbound_config", "media_encryption", "SOMETIMES"),
    ],
)
async def test_injection_prone_or_malformed_config_is_refused_with_422(
    client: httpx2.AsyncClient, sandbox: Sandbox, config: str, field: str, value: object
) -> None:
    body = byoc_body()
    body[config] = {**body[config], field: value}
    response = await create(client, sandbox, body)
    assert response.status_code == 422


async def test_outbound_config_needs_a_password_on_create(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    body = byoc_body()
    del body["outbound_config"]["auth_password"]
    response = await create(client, sandbox, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "outbound_config", "auth_password"]


async def test_inbound_username_without_password_is_refused_on_create(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    response = await create(client, sandbox, byoc_body(inbound_config={"auth_username": "solo"}))
    assert response.status_code == 422


async def test_put_changes_only_given_fields_and_keeps_passwords_for_the_same_username(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    created = (await create(client, sandbox, byoc_body())).json()
    outbound = {"address": "10.1.2.3:5080", "auth_username": "warehouse-out", "transport": "TLS"}
    response = await client.put(
        f"/core/trunks/{created['id']}", headers=key(sandbox.seed.demo), json={"outbound_config": outbound}
    )
    assert response.status_code == 200
    trunk = response.json()
    assert trunk["name"] == "Warehouse PBX"
    assert trunk["inbound_config"] == created["inbound_config"]
    assert trunk["outbound_config"]["address"] == "10.1.2.3:5080"
    assert trunk["outbound_config"]["auth_password_set"] is True
    assert trunk["outbound_config"]["headers"] == {}
    stored = sandbox.store.trunks.get(sandbox.seed.demo.org_id, created["id"]).outbound_config
    assert stored is not None
    assert stored.auth_password is not None
    assert stored.auth_password.get_secret_value() == SECRET_OUT


async def test_put_with_a_new_username_needs_a_new_password(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    created = (await create(client, sandbox, byoc_body())).json()
    outbound = {"address": "10.1.2.3", "auth_username": "someone-else"}
    response = await client.put(
        f"/core/trunks/{created['id']}", headers=key(sandbox.seed.demo), json={"outbound_config": outbound}
    )
    assert response.status_code == 422


async def test_put_with_a_null_config_removes_it(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    created = (await create(client, sandbox, byoc_body())).json()
    response = await client.put(
        f"/core/trunks/{created['id']}", headers=key(sandbox.seed.demo), json={"inbound_config": None}
    )
    assert response.json()["inbound_config"] is None
    assert response.json()["outbound_config"] == created["outbound_config"]


async def test_managed_trunks_cannot_be_updated_or_deleted(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    path = f"/core/trunks/{sandbox.seed.demo.managed_trunk_ids[0]}"
    put = await client.put(path, headers=key(sandbox.seed.demo), json={"name": "mine now"})
    delete = await client.delete(path, headers=key(sandbox.seed.demo))
    assert (put.status_code, delete.status_code) == (400, 400)
    assert "is managed" in put.json()["detail"]


async def test_a_trunk_with_numbers_cannot_be_deleted(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.delete(f"/core/trunks/{sandbox.seed.demo.byoc_trunk_id}", headers=key(sandbox.seed.demo))
    assert response.status_code == 409
    assert "has 3 numbers" in response.json()["detail"]


async def test_deleting_an_empty_trunk_answers_204_then_404(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    created = (await create(client, sandbox, byoc_body())).json()
    path = f"/core/trunks/{created['id']}"
    first = await client.delete(path, headers=key(sandbox.seed.demo))
    assert (first.status_code, first.content) == (204, b"")
    assert (await client.get(path, headers=key(sandbox.seed.demo))).status_code == 404


async def test_another_organizations_trunk_is_invisible_and_untouchable(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    path = f"/core/trunks/{sandbox.seed.other.byoc_trunk_id}"
    headers = key(sandbox.seed.demo)
    assert (await client.get(path, headers=headers)).status_code == 404
    assert (await client.put(path, headers=headers, json={"name": "x"})).status_code == 404
    assert (await client.delete(path, headers=headers)).status_code == 404
    body = {"phone_number": "+15125550100", "trunk_id": sandbox.seed.other.byoc_trunk_id}
    assert (await client.post("/core/phone-numbers", headers=headers, json=body)).status_code == 404
