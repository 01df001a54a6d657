"""Buying a number: its address requirement shown before the purchase, "UK" pointed to GB, and when a spent
purchase budget frees up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from mcp_types import CallToolResult

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ServerFactory, answering, call, connect, questions

# 2026-12-06 09:00 UTC
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC).timestamp()


def text(result: CallToolResult) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


def data(result: CallToolResult) -> Any:
    assert not result.is_error, text(result)
    return result.structured_content


async def first_offer(client: Any, **filters: Any) -> dict[str, Any]:
    offers = data(await call(client, "search_available_numbers", {**filters, "limit": 5}))
    return offers["items"][0]


async def offered_numbers(client: Any) -> list[str]:
    offers = data(await call(client, "search_available_numbers", {"area_code": "415", "limit": 2}))
    return [offer["phone_number"] for offer in offers["items"]]


async def test_a_search_says_what_an_address_requirement_means_only_when_an_offered_number_has_one(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        sydney = data(await call(client, "search_available_numbers", {"country": "AU", "limit": 3}))
        san_francisco = data(await call(client, "search_available_numbers", {"area_code": "415", "limit": 3}))

    assert {offer["address_requirements"] for offer in sydney["items"]} == {"local"}
    assert "need the organization's address on file" in sydney["hint"]
    assert "local: in the number's country" in sydney["hint"]
    assert {offer["address_requirements"] for offer in san_francisco["items"]} == {"none"}
    assert san_francisco.get("hint") is None


async def test_the_purchase_preview_says_a_number_needs_a_local_address_and_what_must_follow_and_only_then(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        sydney, san_francisco = await first_offer(client, country="AU"), await first_offer(client, area_code="415")
        needs_one = data(await call(client, "purchase_phone_number", {"phone_number": sydney["phone_number"]}))
        needs_none = data(await call(client, "purchase_phone_number", {"phone_number": san_francisco["phone_number"]}))

    assert needs_one["status"] == "confirmation_required"
    assert "ADDRESS REQUIRED: the carrier needs an address in AU on file" in needs_one["message"]
    assert "The purchase sends no address" in needs_one["message"], "it says plainly what must follow"
    assert "ADDRESS" not in needs_none["message"]


def offering_unlisted_requirements(sandbox: Sandbox) -> AnyreachClient:
    """The sandbox, except that every offer needing no address needs one of a kind the contract does not list."""
    real = httpx2.ASGITransport(app=sandbox.app)

    async def answer(request: httpx2.Request) -> httpx2.Response:
        response = await real.handle_async_request(request)
        body = (await response.aread()).replace(b'"address_requirements":"none"', b'"address_requirements":"bundle"')
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx2.Response(response.status_code, headers=headers, content=body)

    return AnyreachClient("http://sandbox.test", sandbox.seed.demo.api_key, transport=httpx2.MockTransport(answer))


async def test_an_address_requirement_the_contract_does_not_list_is_still_shown_before_buying(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with (
        offering_unlisted_requirements(sandbox) as api,
        connect(make_server(client=api), era) as client,
    ):
        offer = await first_offer(client, area_code="415")
        preview = data(await call(client, "purchase_phone_number", {"phone_number": offer["phone_number"]}))

    assert offer["address_requirements"] == "bundle"
    assert "ADDRESS REQUIRED: the carrier needs an address on file" in preview["message"]
    assert "(address_requirements bundle)" in preview["message"]


async def test_the_human_asked_to_buy_a_number_that_needs_an_address_reads_the_requirement(
    make_server: ServerFactory, era: str
) -> None:
    human = answering("decline")
    async with connect(make_server(), era, elicitation_callback=human) as client:
        offer = await first_offer(client, country="GB")
        declined = data(await call(client, "purchase_phone_number", {"phone_number": offer["phone_number"]}))

    assert declined["status"] == "declined"
    [question] = questions(human)
    assert "ADDRESS REQUIRED: the carrier needs an address (in any country) on file" in question


async def test_uk_as_a_country_is_refused_pointing_to_gb_instead_of_finding_nothing(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        refused = await call(client, "search_available_numbers", {"country": "UK"})

    assert refused.is_error
    assert "UK is not an ISO code; use GB" in text(refused)


async def test_with_the_purchase_budget_spent_the_refusal_says_when_the_next_purchase_becomes_possible(
    make_server: ServerFactory, era: str
) -> None:
    clock = [NOW]
    server = make_server(no_confirm=True, max_purchases=1, purchase_window=timedelta(hours=1), clock=lambda: clock[0])
    async with connect(server, era) as client:
        first, second = await offered_numbers(client)
        data(await call(client, "purchase_phone_number", {"phone_number": first}))
        clock[0] = NOW + 15 * 60
        refused = await call(client, "purchase_phone_number", {"phone_number": second})

    assert refused.is_error
    assert "reached its purchase limit (1 per 1 h" in text(refused)
    assert "The next purchase becomes possible at 2026-12-06 10:00 UTC (in 45 min)" in text(refused)
