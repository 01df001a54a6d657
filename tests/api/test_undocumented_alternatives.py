"""Where the vendor's documentation is silent, the client works whichever way the service answers.

Each alternative is produced by the real sandbox switched into that behaviour (`open_sandbox(behaviour=...)`),
never by a stand-in of our own code; a MockTransport appears only for a refusal the sandbox cannot phrase.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient, InboundConfig, OutboundConfig, PasswordRequiredError
from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.sandbox.store import ListFilter

from .conftest import PASSWORD, Recorder, json_response, phone_row

PAGINATIONS = ["header", "link", "next_cursor", "cursor", "next"]


@pytest.fixture
async def switched() -> AsyncIterator[Callable[[str], tuple[Sandbox, AnyreachClient]]]:
    """`switched("put=replace")`: a fresh sandbox answering that way, and a client of its demo organization."""
    opened: list[tuple[Sandbox, AnyreachClient]] = []

    def open_switched(behaviour: str) -> tuple[Sandbox, AnyreachClient]:
        sandbox = open_sandbox(":memory:", behaviour=behaviour)
        transport = httpx2.ASGITransport(app=sandbox.app)
        client = AnyreachClient("http://sandbox.test", sandbox.seed.demo.api_key, transport=transport)
        opened.append((sandbox, client))
        return sandbox, client

    yield open_switched
    for sandbox, client in opened:
        await client.aclose()
        sandbox.store.close()


def add_numbers(sandbox: Sandbox, count: int) -> None:
    sandbox.store.bulk_add_numbers(sandbox.seed.demo.org_id, sandbox.seed.demo.byoc_trunk_id, count)


@pytest.mark.parametrize("pagination", PAGINATIONS)
async def test_every_number_is_listed_whichever_way_the_next_cursor_travels(
    switched: Callable[[str], tuple[Sandbox, AnyreachClient]], pagination: str
) -> None:
    sandbox, client = switched(f"pagination={pagination}")
    add_numbers(sandbox, 7)
    expected = sandbox.store.phone_numbers.list(sandbox.seed.demo.org_id, ListFilter(limit=100)).items

    first = await client.phone_numbers.list(limit=3)
    every = [number.phone_number async for number in client.phone_numbers.iter(page_size=3)]

    assert first.next_cursor is not None
    assert not first.possibly_incomplete
    assert every == [number.phone_number for number in expected]
    assert len(every) == 12


async def test_a_full_page_without_a_recognisable_cursor_says_it_may_be_incomplete(
    switched: Callable[[str], tuple[Sandbox, AnyreachClient]], caplog: pytest.LogCaptureFixture
) -> None:
    sandbox, client = switched("pagination=none")
    add_numbers(sandbox, 7)

    full = await client.phone_numbers.list(limit=3)
    whole = await client.phone_numbers.list(limit=100)
    walked = [number async for number in client.phone_numbers.iter(page_size=5)]

    assert (full.next_cursor, full.possibly_incomplete) == (None, True)
    assert (len(whole.items), whole.possibly_incomplete) == (12, False)
    assert len(walked) == 5
    assert "may be incomplete" in caplog.text


async def test_once_the_service_has_shown_its_cursor_a_full_page_without_one_is_the_last(
    switched: Callable[[str], tuple[Sandbox, AnyreachClient]],
) -> None:
    _, client = switched("pagination=header")

    before = await client.phone_numbers.list(limit=5)
    paged = await client.phone_numbers.list(limit=2)
    after = await client.phone_numbers.list(limit=5)

    assert (len(before.items), before.next_cursor, before.possibly_incomplete) == (5, None, True)
    assert paged.next_cursor is not None
    assert (len(after.items), after.next_cursor, after.possibly_incomplete) == (5, None, False)


async def test_a_refused_limit_falls_back_to_the_maximum_the_service_names_and_keeps_it(
    switched: Callable[[str], tuple[Sandbox, AnyreachClient]],
) -> None:
    sandbox, client = switched("max_limit=4")
    add_numbers(sandbox, 7)
    gets = sandbox.app.state.request_counts

    first = await client.phone_numbers.list(limit=100)
    after_first = gets["GET"]
    trunks = await client.trunks.list(limit=100)
    every = [number async for number in client.phone_numbers.iter()]
    offers = await client.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, limit=100)

    assert len(first.items) == 4
    assert first.next_cursor is not None
    assert after_first == 2, "refused once, then asked at the maximum"
    assert len(trunks.items) == 2
    assert gets["GET"] == after_first + 1 + 3 + 1, "later requests go straight to the maximum"
    assert len(every) == 12
    assert len(offers) == 4


@pytest.mark.parametrize(
    ("detail", "expected"),
    [("limit must be at most 25", "25"), ("limit is too large", "50")],
    ids=["maximum-in-the-text", "no-maximum-named"],
)
async def test_a_limit_refusal_phrased_in_words_falls_back_to_the_named_or_the_documented_maximum(
    recorder: Recorder, detail: str, expected: str
) -> None:
    # The sandbox answers limit refusals FastAPI's way only; other phrasings come from a MockTransport.
    recorder.queue(json_response(400, {"detail": detail}), json_response(200, [phone_row()]))
    async with recorder.client() as client:
        page = await client.phone_numbers.list(limit=100)
    assert [request.url.params["limit"] for request in recorder.requests] == ["100", expected]
    assert len(page.items) == 1


async def test_a_refusal_about_something_else_than_the_limit_is_raised_unchanged(recorder: Recorder) -> None:
    recorder.queue(json_response(400, {"detail": "created_after is not a timestamp"}))
    async with recorder.client() as client:
        with pytest.raises(Exception, match="created_after"):
            await client.phone_numbers.list(limit=100, created_after="yesterday")
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("put", ["merge", "replace"])
async def test_renaming_a_trunk_keeps_its_configs_whether_put_merges_or_replaces(
    switched: Callable[[str], tuple[Sandbox, AnyreachClient]], put: str
) -> None:
    sandbox, client = switched(f"put={put}")
    trunk_id = sandbox.seed.demo.byoc_trunk_id
    before = await client.trunks.get(trunk_id)
    passwords = {"inbound": SecretStr(PASSWORD), "outbound": SecretStr(PASSWORD)}

    with pytest.raises(PasswordRequiredError) as missing:
        await client.trunks.update(trunk_id, name="Renamed PBX")
    unchanged = await client.trunks.get(trunk_id)
    renamed = await client.trunks.update(trunk_id, name="Renamed PBX", passwords=passwords)

    assert missing.value.sides == ("inbound", "outbound")
    assert unchanged == before
    assert renamed.name == "Renamed PBX"
    assert renamed.inbound_config == before.inbound_config
    assert renamed.outbound_config == before.outbound_config


@pytest.mark.parametrize("put", ["merge", "replace"])
async def test_replacing_one_config_keeps_the_other_whether_put_merges_or_replaces(
    switched: Callable[[str], tuple[Sandbox, AnyreachClient]], put: str
) -> None:
    _, client = switched(f"put={put}")
    outbound = OutboundConfig(address="pbx.example.com", auth_username="u", auth_password=SecretStr(PASSWORD))
    trunk = await client.trunks.create(name="Office", outbound_config=outbound)
    inbound = InboundConfig(allowed_addresses=["203.0.113.0/24"])

    changed = await client.trunks.update(trunk.id, inbound_config=inbound, passwords={"outbound": SecretStr(PASSWORD)})
    dropped = await client.trunks.update(trunk.id, outbound_config=None)

    assert changed.name == "Office"
    assert changed.inbound_config is not None
    assert changed.inbound_config.allowed_addresses == ["203.0.113.0/24"]
    assert changed.outbound_config == trunk.outbound_config
    assert dropped.outbound_config is None
    assert dropped.inbound_config == changed.inbound_config


@pytest.mark.parametrize("put", ["merge", "replace"])
async def test_a_routing_update_keeps_the_fields_it_does_not_name_whether_put_merges_or_replaces(
    switched: Callable[[str], tuple[Sandbox, AnyreachClient]], put: str
) -> None:
    _, client = switched(f"put={put}")
    await client.inbound_routing.create(workflow_id="wf_router", workflow_version=3, fallback_agent_id="agt_a")

    disabled = await client.inbound_routing.update(enabled=False)
    inline = await client.inbound_routing.update(workflow_definition={"steps": []})

    assert (disabled.enabled, disabled.workflow_id, disabled.workflow_version) == (False, "wf_router", 3)
    assert disabled.fallback_agent_id == "agt_a"
    assert (inline.workflow_id, inline.workflow_version, inline.workflow_definition) == (None, None, {"steps": []})
    assert (inline.enabled, inline.fallback_agent_id) == (False, "agt_a")


@pytest.mark.parametrize("purchase_body", ["row", "empty", "status"])
async def test_a_purchase_answered_without_the_number_row_still_returns_the_bought_number(
    switched: Callable[[str], tuple[Sandbox, AnyreachClient]], purchase_body: str
) -> None:
    sandbox, client = switched(f"purchase_body={purchase_body}")
    account = sandbox.seed.demo.managed_account_id
    [offer] = await client.managed_accounts.search_numbers(account, area_code="512", limit=1)

    bought = await client.managed_accounts.purchase_number(account, phone_number=offer.phone_number)

    trunk = await client.trunks.get(bought.trunk_id)
    assert bought.phone_number == offer.phone_number
    assert trunk.managed_account_id == account
    assert sandbox.app.state.request_counts["POST"] == 1, "bought once, never again"


@pytest.mark.parametrize(
    ("filters", "country"),
    [({"country_code": "GB"}, "GB"), ({"country_code": "AU", "area_code": "3"}, "AU")],
)
async def test_search_offers_numbers_in_any_iso_country_the_account_serves(
    switched: Callable[[str], tuple[Sandbox, AnyreachClient]], filters: dict[str, Any], country: str
) -> None:
    sandbox, client = switched("")
    offers = await client.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, limit=5, **filters)
    nowhere = await client.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, country_code="FR")

    assert offers
    assert {offer.iso_country for offer in offers} == {country}
    assert nowhere == []
