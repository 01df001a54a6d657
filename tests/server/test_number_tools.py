"""The numbers and purchasing toolsets, through the real MCP client and the real sandbox."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.server.subscriptions import ResourcesListChanged, ResourceUpdated, ServerEvent
from mcp_types import ResourceUpdatedNotification

from mcp_anyreach.api import AnyreachClient, PhoneNumber
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ACCEPT, ServerFactory, answering, connect, in_directory


def _data(result: Any) -> Any:
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def test_listing_numbers_pages_through_the_whole_directory(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    expected = [n.phone_number async for n in api.phone_numbers.iter()]
    seen: list[str] = []
    async with connect(make_server(), era) as client:
        cursor = None
        while True:
            page = _data(await client.call_tool("list_phone_numbers", {"limit": 2, "cursor": cursor}))
            seen += [item["phone_number"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == expected
    assert len(seen) >= 5


async def test_listing_numbers_filters_by_trunk_and_digits(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    byoc = sandbox.seed.demo.byoc_trunk_id
    first = (await api.phone_numbers.list(trunk_id=byoc)).items[0].phone_number
    async with connect(make_server(), era) as client:
        on_trunk = _data(await client.call_tool("list_phone_numbers", {"trunk_id": byoc}))
        by_digits = _data(await client.call_tool("list_phone_numbers", {"contains": first[-6:]}))
    assert on_trunk["items"]
    assert all(item["trunk_id"] == byoc for item in on_trunk["items"])
    assert [item["phone_number"] for item in by_digits["items"]] == [first]


async def test_a_number_written_with_its_country_code_spaces_and_brackets_is_normalised_to_e164(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    written = f"+1 ({number[2:5]}) {number[5:8]}-{number[8:]}"
    async with connect(make_server(), era) as client:
        found = _data(await client.call_tool("get_phone_number", {"phone_number": written}))
    assert found["phone_number"] == number


async def test_an_invalid_number_is_a_tool_error_that_shows_the_expected_format(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        result = await client.call_tool("get_phone_number", {"phone_number": "555-01"})
    assert result.is_error
    assert "+14155550100" in result.content[0].text  # type: ignore[union-attr]


async def test_an_unknown_number_is_a_tool_error_that_points_to_the_list(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(), era) as client:
        result = await client.call_tool("get_phone_number", {"phone_number": "+14155550199"})
    assert result.is_error
    assert "list_phone_numbers" in result.content[0].text  # type: ignore[union-attr]


async def test_registering_a_number_on_a_byoc_trunk_adds_it_to_the_directory(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_server(), era) as client:
        created = _data(
            await client.call_tool(
                "register_phone_number",
                {"phone_number": "+1 646 555 0142", "trunk_id": sandbox.seed.demo.byoc_trunk_id},
            )
        )
    assert created["phone_number"] == "+16465550142"
    assert (await api.phone_numbers.get("+16465550142")).trunk_id == sandbox.seed.demo.byoc_trunk_id


async def test_registering_on_a_managed_trunk_is_refused_with_the_alternative(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_server(), era) as client:
        result = await client.call_tool(
            "register_phone_number",
            {"phone_number": "+16465550143", "trunk_id": sandbox.seed.demo.managed_trunk_ids[0]},
        )
    assert result.is_error
    assert "purchase_phone_number" in result.content[0].text  # type: ignore[union-attr]


async def test_update_phone_number_toggles_outbound_sharing(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0]
    async with connect(make_server(), era) as client:
        updated = _data(
            await client.call_tool(
                "update_phone_number",
                {"phone_number": number.phone_number, "outbound_shareable": not number.outbound_shareable},
            )
        )
    assert updated["outbound_shareable"] is (not number.outbound_shareable)
    assert (await api.phone_numbers.get(number.phone_number)).outbound_shareable is (not number.outbound_shareable)


async def test_the_delete_confirmation_names_the_agent_that_answers_the_number(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    answered = await anext(n async for n in api.phone_numbers.iter() if n.inbound_agent_version_id)
    human = answering("decline")
    async with connect(make_server(), era, elicitation_callback=human) as client:
        await client.call_tool("delete_phone_number", {"phone_number": answered.phone_number})
    [question] = human.asked  # type: ignore[attr-defined]
    assert answered.phone_number in question
    assert str(answered.inbound_agent_version_id) in question


async def test_search_offers_numbers_in_the_requested_area_code(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(), era) as client:
        offers = _data(await client.call_tool("search_available_numbers", {"area_code": "312", "limit": 5}))["items"]
    assert 1 <= len(offers) <= 5
    assert all(offer["phone_number"].startswith("+1312") for offer in offers)


async def test_a_purchase_notifies_clients_that_the_directory_changed(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code="415")
    updated: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updated.append(str(message.params.uri))

    async with connect(make_server(no_confirm=True), "legacy", message_handler=on_message) as client:
        _data(await client.call_tool("purchase_phone_number", {"phone_number": offers[0].phone_number}))
    assert "anyreach://phone-numbers" in updated
    assert "anyreach://inventory" in updated


async def test_a_purchase_reaches_modern_listeners_as_change_events(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code="415")
    async with (
        connect(make_server(no_confirm=True), "auto") as client,
        client.listen(resources_list_changed=True, resource_subscriptions=["anyreach://phone-numbers"]) as events,
    ):
        _data(await client.call_tool("purchase_phone_number", {"phone_number": offers[0].phone_number}))
        seen: list[ServerEvent] = []
        with anyio.fail_after(60):
            async for event in events:
                seen.append(event)
                if isinstance(event, ResourceUpdated):
                    break
    assert ResourcesListChanged() in seen
    assert ResourceUpdated(uri="anyreach://phone-numbers") in seen


@pytest.mark.parametrize(
    ("tool", "arguments", "asked"),
    [
        ("update_phone_number", {"outbound_shareable": True}, False),  # ungated
        ("delete_phone_number", {}, True),  # a human's yes
    ],
)
async def test_a_write_tells_subscribed_clients_which_number_changed(
    make_server: ServerFactory, api: AnyreachClient, tool: str, arguments: dict[str, Any], asked: bool
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    updated: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updated.append(str(message.params.uri))

    human = answering("accept", ACCEPT) if asked else None
    async with connect(make_server(), "legacy", message_handler=on_message, elicitation_callback=human) as client:
        _data(await client.call_tool(tool, {"phone_number": number, **arguments}))
    assert f"anyreach://phone-numbers/{number}" in updated


@pytest.mark.parametrize(
    ("slot", "wanted"), [("inbound", "none"), ("inbound", "any"), ("outbound", "none"), ("outbound", "any")]
)
async def test_listing_by_who_answers_or_calls_keeps_exactly_the_numbers_that_match(
    make_server: ServerFactory, api: AnyreachClient, slot: str, wanted: str
) -> None:
    def matches(number: PhoneNumber) -> bool:
        return (getattr(number, f"{slot}_agent_version_id") is None) == (wanted == "none")

    expected = {n.phone_number async for n in api.phone_numbers.iter() if matches(n)}
    async with connect(make_server(), "legacy") as client:
        listed = _data(await client.call_tool("list_phone_numbers", {f"{slot}_agent": wanted, "limit": 100}))
    assert expected
    assert {item["phone_number"] for item in listed["items"]} == expected


async def test_a_number_on_offer_that_this_server_never_searched_is_previewed_with_its_own_details(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    """Another replica, or an earlier process, made the search: the server finds the offer again itself."""
    offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code="415")
    offer = offers[-1]
    wanted = offer.phone_number
    async with connect(make_server(), "legacy") as client:
        preview = _data(await client.call_tool("purchase_phone_number", {"phone_number": wanted}))
    assert preview["status"] == "confirmation_required"
    assert wanted in preview["message"]
    assert ", ".join(filter(None, [offer.locality, offer.region, offer.phone_number_type])) in preview["message"]
    assert not await in_directory(api, wanted)


async def test_a_number_nobody_offers_is_refused_before_anyone_is_asked_though_its_neighbours_are_on_offer(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code="415")
    offered = {offer.phone_number for offer in offers}
    unoffered = next(f"+1415555{n:04d}" for n in range(10_000) if f"+1415555{n:04d}" not in offered)
    async with connect(make_server(), "legacy") as client:
        result = await client.call_tool("purchase_phone_number", {"phone_number": unoffered})
    assert result.is_error
    assert "not offered for purchase" in result.content[0].text  # type: ignore[union-attr]
