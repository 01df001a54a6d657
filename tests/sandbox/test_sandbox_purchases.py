from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import phonenumbers
import pytest

from mcp_anyreach.sandbox import Sandbox

from .sandbox_helpers import key, read_only


async def search(client: httpx2.AsyncClient, sandbox: Sandbox, **params: Any) -> httpx2.Response:
    path = f"/core/managed-accounts/{sandbox.seed.demo.managed_account_id}/search-numbers"
    return await client.get(path, headers=read_only(sandbox.seed.demo), params=params)


async def purchase(client: httpx2.AsyncClient, sandbox: Sandbox, number: str) -> httpx2.Response:
    path = f"/core/managed-accounts/{sandbox.seed.demo.managed_account_id}/purchase-number"
    return await client.post(path, headers=key(sandbox.seed.demo), json={"phone_number": number})


async def test_search_offers_valid_us_local_numbers_by_default(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    response = await search(client, sandbox)
    assert response.status_code == 200
    offers = response.json()
    assert len(offers) == 20
    for offer in offers:
        assert offer["iso_country"] == "US"
        assert phonenumbers.is_valid_number(phonenumbers.parse(offer["phone_number"]))
        assert set(offer["capabilities"]) == {"voice", "sms", "mms"}


async def test_search_is_deterministic(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    assert (await search(client, sandbox, limit=50)).json() == (await search(client, sandbox, limit=50)).json()


Offer = dict[str, Any]
FILTER_CASES: list[tuple[dict[str, str], Callable[[Offer], bool]]] = [
    ({"area_code": "415"}, lambda offer: offer["phone_number"].startswith("+1415")),
    ({"country_code": "CA"}, lambda offer: offer["iso_country"] == "CA"),
    ({"phone_number_type": "toll_free"}, lambda offer: offer["phone_number_type"] == "toll_free"),
    ({"phone_number_type": "local"}, lambda offer: offer["phone_number_type"] == "local"),
    ({"voice_enabled": "true"}, lambda offer: offer["capabilities"]["voice"]),
    ({"sms_enabled": "false"}, lambda offer: not offer["capabilities"]["sms"]),
    ({"mms_enabled": "true"}, lambda offer: offer["capabilities"]["mms"]),
    ({"in_region": "NY"}, lambda offer: offer["region"] == "NY"),
    ({"in_region": "on", "country_code": "CA"}, lambda offer: offer["region"] == "ON"),
    ({"in_postal_code": "94105"}, lambda offer: offer["postal_code"] == "94105"),
    ({"area_code": "888"}, lambda offer: offer["phone_number"].startswith("+1888")),
]


@pytest.mark.parametrize(("params", "check"), FILTER_CASES)
async def test_every_search_filter_is_honoured(
    client: httpx2.AsyncClient, sandbox: Sandbox, params: dict[str, str], check: Callable[[Offer], bool]
) -> None:
    offers = (await search(client, sandbox, limit=100, **params)).json()
    assert offers
    assert all(check(offer) for offer in offers)


async def test_local_offers_carry_their_locality(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    offers = (await search(client, sandbox, area_code="212", limit=5)).json()
    assert {offer["region"] for offer in offers} == {"NY"}
    assert all(offer["locality"] and offer["rate_center"] and offer["latitude"] for offer in offers)


@pytest.mark.parametrize("params", [{"country_code": "UK1"}, {"limit": 0}, {"phone_number_type": "mobile"}])
async def test_bad_search_parameters_are_refused_with_422(
    client: httpx2.AsyncClient, sandbox: Sandbox, params: dict[str, object]
) -> None:
    assert (await search(client, sandbox, **params)).status_code == 422


async def test_another_organizations_managed_account_is_not_found(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    path = f"/core/managed-accounts/{sandbox.seed.other.managed_account_id}/search-numbers"
    assert (await client.get(path, headers=key(sandbox.seed.demo))).status_code == 404
    path = f"/core/managed-accounts/{sandbox.seed.other.managed_account_id}/purchase-number"
    body = {"phone_number": "+14155550123"}
    assert (await client.post(path, headers=key(sandbox.seed.demo), json=body)).status_code == 404


async def test_purchase_creates_a_managed_trunk_and_a_row_and_leaves_the_pool(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    offer = (await search(client, sandbox, area_code="512", limit=1)).json()[0]["phone_number"]
    response = await purchase(client, sandbox, offer)
    assert response.status_code == 201
    row = response.json()
    assert row["phone_number"] == offer
    trunk = (await client.get(f"/core/trunks/{row['trunk_id']}", headers=key(sandbox.seed.demo))).json()
    assert trunk["managed_account_id"] == sandbox.seed.demo.managed_account_id
    listed = await client.get("/core/phone-numbers", headers=key(sandbox.seed.demo), params={"phone_number": offer})
    assert [number["phone_number"] for number in listed.json()] == [offer]
    remaining = (await search(client, sandbox, area_code="512", limit=100)).json()
    assert offer not in [number["phone_number"] for number in remaining]
    assert (await purchase(client, sandbox, offer)).status_code == 409


async def test_a_number_not_offered_cannot_be_bought(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    assert (await purchase(client, sandbox, "+14155550199")).status_code == 404


async def test_phone_numbers_manage_scope_may_also_buy(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    demo = sandbox.seed.demo
    sandbox.store.organizations.add_credential(demo.org_id, "ak_buyer", ("phone_numbers:manage",))
    offer = (await search(client, sandbox, limit=1)).json()[0]["phone_number"]
    response = await client.post(
        f"/core/managed-accounts/{demo.managed_account_id}/purchase-number",
        headers={"Authorization": "Bearer ak_buyer"},
        json={"phone_number": offer},
    )
    assert response.status_code == 201


async def test_purchases_stop_at_the_number_limit(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    offers = [offer["phone_number"] for offer in (await search(client, sandbox, limit=8)).json()]
    statuses = [(await purchase(client, sandbox, offer)).status_code for offer in offers]
    assert statuses == [201] * 7 + [400]
