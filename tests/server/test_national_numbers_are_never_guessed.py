"""A number without its country code is refused with the E.164 form to send, never read as a US number."""

from __future__ import annotations

import pytest

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import data, texts
from tests.server.conftest import ServerFactory, answering, call, connect, questions

UNANSWERED = "+14155550102"


@pytest.mark.parametrize("national", ["4155550102", "(415) 555-0102", "1 415 555 0102"])
async def test_a_us_national_number_is_refused_with_the_e164_form_to_send(
    make_server: ServerFactory, era: str, national: str
) -> None:
    async with connect(make_server(read_only=True), era) as client:
        result = await call(client, "get_phone_number", {"phone_number": national})
        written = data(await call(client, "get_phone_number", {"phone_number": "+1 (415) 555-0102"}))
    assert written["phone_number"] == UNANSWERED
    assert result.is_error
    assert "no country code" in texts(result)
    assert f"if it is a US or Canadian number, send '{UNANSWERED}'" in texts(result)


async def test_a_number_with_a_trunk_prefix_is_told_to_drop_the_0_and_give_the_country(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(read_only=True), era) as client:
        result = await call(client, "explain_inbound_call", {"phone_number": "020 7946 0018"})
    assert result.is_error
    assert "drop the trunk prefix 0" in texts(result)
    assert "country code" in texts(result)
    assert "'+442079460018' if it is in the UK (GB)" in texts(result)


async def test_an_international_00_prefix_is_told_to_become_a_plus(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(read_only=True), era) as client:
        result = await call(client, "get_phone_number", {"phone_number": "0044 20 7946 0018"})
    assert result.is_error
    assert "send '+442079460018'" in texts(result)


async def test_assigning_an_agent_to_a_national_number_assigns_nothing_and_asks_nobody(
    make_server: ServerFactory, sandbox: Sandbox, api: AnyreachClient, era: str
) -> None:
    human = answering("accept", {"confirm": True})
    arguments = {"agent_id": sandbox.seed.demo.agent_ids[2], "phone_numbers": ["(415) 555-0102"]}
    async with connect(make_server(), era, elicitation_callback=human) as client:
        result = await call(client, "assign_agent_to_numbers", arguments)
    assert result.is_error
    assert f"'{UNANSWERED}'" in texts(result)
    assert questions(human) == []
    assert (await api.phone_numbers.get(UNANSWERED)).inbound_agent_version_id is None
