"""What a model is told when the real service answers where the documentation is silent, in another way than
the sandbox's own: the sandbox is switched into each alternative behaviour, nothing else is replaced."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp_types import TextResourceContents

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Behaviour, Sandbox
from tests.server.conftest import ACCEPT, ServerFactory, answering, call, connect, questions

INBOUND_SECRET = "in-kept-Secret-5521"
OUTBOUND_SECRET = "out-kept-Secret-5522"


def switch(sandbox: Sandbox, spec: str) -> None:
    sandbox.app.state.behaviour = Behaviour.parse(spec)


async def tool(make_server: ServerFactory, era: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    async with connect(make_server(), era) as client:
        result = await call(client, name, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def test_the_audit_and_the_inventory_say_a_list_may_be_incomplete_when_a_full_page_has_no_cursor(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    demo = sandbox.seed.demo
    sandbox.store.bulk_add_numbers(demo.org_id, demo.byoc_trunk_id, 150)
    switch(sandbox, "pagination=none")

    report = await tool(make_server, era, "audit_inventory", {})
    async with connect(make_server(), era) as client:
        contents = (await client.read_resource("anyreach://inventory")).contents[0]
    assert isinstance(contents, TextResourceContents)
    inventory = json.loads(contents.text)
    switch(sandbox, "pagination=header")
    complete = await tool(make_server, era, "audit_inventory", {})

    assert complete["organization"]["numbers"] == 155
    assert complete["warnings"] == []
    assert report["organization"]["numbers"] == 100
    [warning] = report["warnings"]
    assert "phone numbers" in warning
    assert "incomplete" in warning
    assert inventory["warnings"] == report["warnings"]


async def test_a_listed_page_that_may_not_be_the_last_carries_a_warning(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    switch(sandbox, "pagination=none")

    full = await tool(make_server, era, "list_phone_numbers", {"limit": 2})
    whole = await tool(make_server, era, "list_phone_numbers", {"limit": 50})

    assert (len(full["items"]), full["next_cursor"]) == (2, None)
    assert "may be more" in full["warning"]
    assert (len(whole["items"]), whole["warning"]) == (5, None)


async def test_pages_linked_by_an_rfc_8288_header_are_walked_by_the_list_tools(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    switch(sandbox, "pagination=link")
    seen: list[str] = []
    cursor: str | None = None
    async with connect(make_server(), era) as client:
        while True:
            page = await call(client, "list_trunks", {"limit": 1, **({"cursor": cursor} if cursor else {})})
            assert page.structured_content is not None
            seen += [trunk["id"] for trunk in page.structured_content["items"]]
            cursor = page.structured_content["next_cursor"]
            if cursor is None:
                break
    assert len(seen) == 2


async def test_a_purchase_answered_with_an_empty_body_is_reported_as_bought_and_counts_against_the_cap(
    make_server: ServerFactory, sandbox: Sandbox, api: AnyreachClient, era: str
) -> None:
    switch(sandbox, "purchase_body=empty")
    callback = answering("accept", ACCEPT)
    async with connect(make_server(max_purchases=1), era, elicitation_callback=callback) as client:
        offers = await call(client, "search_available_numbers", {"area_code": "303", "limit": 2})
        assert offers.structured_content is not None
        first, second = (offer["phone_number"] for offer in offers.structured_content["result"])
        bought = await call(client, "purchase_phone_number", {"phone_number": first})
        over_the_cap = await call(client, "purchase_phone_number", {"phone_number": second})

    assert not bought.is_error, bought.content
    assert bought.structured_content is not None
    assert bought.structured_content["status"] == "done"
    assert bought.structured_content["result"]["phone_number"] == first
    assert (await api.phone_numbers.get(first)).phone_number == first
    assert over_the_cap.is_error


async def test_update_trunk_asks_for_the_passwords_of_the_auth_it_keeps_and_then_renames_under_a_replacing_put(
    make_server: ServerFactory, sandbox: Sandbox, api: AnyreachClient, era: str
) -> None:
    switch(sandbox, "put=replace")
    trunk_id = sandbox.seed.demo.byoc_trunk_id
    before = await api.trunks.get(trunk_id)
    callback = answering("accept", ACCEPT)
    rename = {"trunk_id": trunk_id, "name": "Renamed PBX"}
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        refused = await call(client, "update_trunk", rename)
        unchanged = await api.trunks.get(trunk_id)
        passwords = {"inbound_password": INBOUND_SECRET, "outbound_password": OUTBOUND_SECRET}
        done = await call(client, "update_trunk", {**rename, **passwords})

    assert refused.is_error
    refusal = refused.content[0].text  # type: ignore[union-attr]
    assert "inbound_password and outbound_password" in refusal
    assert unchanged == before
    assert not done.is_error, done.content
    [question] = questions(callback)
    assert "inbound password: sent again" in question
    assert "outbound password: sent again" in question
    after = await api.trunks.get(trunk_id)
    assert after.name == "Renamed PBX"
    assert (after.inbound_config, after.outbound_config) == (before.inbound_config, before.outbound_config)
    shown = json.dumps(done.model_dump(mode="json")) + question
    assert INBOUND_SECRET not in shown
    assert OUTBOUND_SECRET not in shown


async def test_a_password_for_a_side_without_auth_is_refused(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    arguments = {"trunk_id": sandbox.seed.demo.byoc_trunk_id, "remove": "inbound", "inbound_password": "x-1"}
    async with connect(make_server(), era) as client:
        result = await call(client, "update_trunk", arguments)
    assert result.is_error
    assert "password was given for the inbound config" in result.content[0].text  # type: ignore[union-attr]


async def test_search_covers_any_iso_country_voice_and_mms_and_both_number_types_by_default(
    make_server: ServerFactory, era: str
) -> None:
    british = await tool(make_server, era, "search_available_numbers", {"country": "gb", "limit": 3})
    sydney = await tool(make_server, era, "search_available_numbers", {"country": "AU", "area_code": "2"})
    mms = await tool(make_server, era, "search_available_numbers", {"mms": True, "voice": True, "limit": 20})
    toll_free = await tool(make_server, era, "search_available_numbers", {"area_code": "800", "limit": 3})
    nowhere = await tool(make_server, era, "search_available_numbers", {"country": "FR"})

    assert [offer["phone_number"][:3] for offer in british["result"]] == ["+44"] * 3
    assert sydney["result"]
    assert {offer["phone_number"][:4] for offer in sydney["result"]} == {"+612"}
    assert all({"mms", "voice"} <= set(offer["capabilities"]) for offer in mms["result"])
    assert {offer["phone_number_type"] for offer in toll_free["result"]} == {"toll_free"}
    assert nowhere["result"] == []


@pytest.mark.parametrize(
    "arguments", [{"country": "GBR"}, {"country": "G1"}, {"area_code": "41a"}, {"area_code": "123456"}]
)
async def test_a_malformed_country_or_area_code_is_refused_with_what_to_give(
    make_server: ServerFactory, era: str, arguments: dict[str, Any]
) -> None:
    async with connect(make_server(), era) as client:
        result = await call(client, "search_available_numbers", arguments)
    assert result.is_error
    assert "e.g." in result.content[0].text  # type: ignore[union-attr]
