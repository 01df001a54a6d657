"""What the client puts on the wire and how it reads pages, checked with a MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import anyio
import httpx2
import pytest
from pydantic import SecretStr

from mcp_anyreach.api import (
    AnyreachClient,
    AnyreachError,
    OutboundConfig,
    PasswordRequiredError,
    PhoneNumber,
    ReadOnlyError,
)

from .conftest import BASE_URL, PASSWORD, TOKEN, Recorder, json_response, phone_row

TRUNK = {"id": "t-1", "name": "office"}
HANG_TIMEOUT = 60.0


async def test_every_request_carries_the_bearer_token_and_the_org_header(recorder: Recorder) -> None:
    recorder.queue(json_response(200, []))
    async with recorder.client() as client:
        await client.trunks.list()
    recorder.queue(json_response(200, []))
    async with AnyreachClient(BASE_URL, "pat_x", "org-9", transport=httpx2.MockTransport(recorder.handle)) as client:
        await client.trunks.list()
    first, second = recorder.requests
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert "x-anyreach-org" not in first.headers
    assert second.headers["authorization"] == "Bearer pat_x"
    assert second.headers["x-anyreach-org"] == "org-9"


async def test_a_plus_in_a_phone_number_path_is_percent_encoded(recorder: Recorder) -> None:
    recorder.queue(json_response(200, phone_row()), json_response(200, phone_row()), httpx2.Response(204))
    async with recorder.client() as client:
        await client.phone_numbers.get("+15551230001")
        await client.phone_numbers.update("+15551230001", outbound_shareable=True)
        await client.phone_numbers.delete("+15551230001")
    assert {r.url.raw_path for r in recorder.requests} == {b"/core/phone-numbers/%2B15551230001"}
    assert recorder.body(1) == {"outbound_shareable": True}


async def test_list_filters_become_query_parameters_and_unset_ones_are_omitted(recorder: Recorder) -> None:
    recorder.queue(json_response(200, []))
    async with recorder.client() as client:
        await client.phone_numbers.list(
            phone_number="+1555",
            created_after=datetime(2026, 11, 7, 5, 31, 56, tzinfo=UTC),
            updated_before=datetime(2026, 11, 7, 7, 0, tzinfo=timezone(timedelta(hours=2))),
            created_before="2026-12-01T00:00:00Z",
            limit=10,
        )
    assert dict(recorder.requests[0].url.params) == {
        "phone_number": "+1555",
        "created_after": "2026-11-07T05:31:56Z",
        "updated_before": "2026-11-07T05:00:00Z",
        "created_before": "2026-12-01T00:00:00Z",
        "limit": "10",
    }


async def test_walking_every_page_sends_the_same_filters_as_one_page_in_the_same_order(recorder: Recorder) -> None:
    filters: dict[str, Any] = {
        "metadata": {"team": "support"},
        "updated_after": "2026-11-01T00:00:00Z",
        "name": "sal",
        "active": True,
    }
    recorder.queue(json_response(200, []), json_response(200, []))
    async with recorder.client() as client:
        await client.agents.list(limit=7, **filters)
        [_ async for _ in client.agents.iter(page_size=7, **filters)]
    one_page, walked = (request.url.query for request in recorder.requests)
    assert (
        one_page
        == walked
        == (
            b"name=sal&active=true&metadata=%7B%22team%22%3A%22support%22%7D&updated_after=2026-11-01T00%3A00%3A00Z&limit=7"
        )
    )


async def test_an_unknown_filter_is_a_type_error_before_anything_is_sent(recorder: Recorder) -> None:
    async with recorder.client() as client:
        with pytest.raises(TypeError, match=r"^Trunks\.list\(\) got an unexpected keyword argument 'colour'$"):
            await client.trunks.list(colour="red")  # type: ignore[call-arg]
        with pytest.raises(TypeError, match=r"^PhoneNumbers\.iter\(\) got an unexpected keyword argument 'limit'$"):
            client.phone_numbers.iter(limit=5)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="'phone_number'"):
            client.agents.iter_versions("agent-1", phone_number="+1555")  # type: ignore[call-arg]
    assert recorder.requests == []


async def test_search_filters_send_booleans_as_true_and_false(recorder: Recorder) -> None:
    offer = {"phone_number": "+14155550100", "capabilities": {"voice": True, "sms": False, "mms": False}}
    recorder.queue(json_response(200, [offer]))
    async with recorder.client() as client:
        found = await client.managed_accounts.search_numbers(
            "ma-1", area_code="415", voice_enabled=True, sms_enabled=False
        )
    assert dict(recorder.requests[0].url.params) == {
        "area_code": "415",
        "voice_enabled": "true",
        "sms_enabled": "false",
    }
    assert found[0].capabilities is not None
    assert found[0].capabilities.voice


async def test_a_bare_array_page_takes_its_cursor_from_the_header(recorder: Recorder) -> None:
    recorder.queue(json_response(200, [phone_row()], {"x-next-cursor": "c2"}))
    async with recorder.client() as client:
        page = await client.phone_numbers.list(limit=1)
    assert [n.phone_number for n in page.items] == ["+15551230001"]
    assert page.next_cursor == "c2"


async def test_an_envelope_page_is_accepted(recorder: Recorder) -> None:
    recorder.queue(
        json_response(200, {"data": [phone_row()], "next_cursor": "c2"}),
        json_response(200, {"data": [], "next_cursor": None}),
    )
    async with recorder.client() as client:
        first = await client.phone_numbers.list()
        last = await client.phone_numbers.list(cursor="c2")
    assert len(first.items) == 1
    assert first.next_cursor == "c2"
    assert last.items == []
    assert last.next_cursor is None


async def test_iter_follows_envelope_cursors_lazily(recorder: Recorder) -> None:
    numbers = [f"+1555123000{i}" for i in range(5)]
    recorder.queue(
        json_response(200, {"data": [phone_row(n) for n in numbers[:2]], "next_cursor": "a"}),
        json_response(200, {"data": [phone_row(n) for n in numbers[2:4]], "next_cursor": "b"}),
        json_response(200, {"data": [phone_row(numbers[4])]}),
    )
    seen: list[str] = []
    async with recorder.client() as client:
        iterator = client.phone_numbers.iter(page_size=2)
        assert recorder.requests == []
        async for number in iterator:
            seen.append(number.phone_number)
            if len(seen) == 1:
                assert len(recorder.requests) == 1
    assert seen == numbers
    assert [r.url.params.get("cursor") for r in recorder.requests] == [None, "a", "b"]
    assert {r.url.params["limit"] for r in recorder.requests} == {"2"}


async def test_iter_stops_when_the_api_repeats_a_cursor(recorder: Recorder) -> None:
    recorder.queue(*(json_response(200, [], {"x-next-cursor": "same"}) for _ in range(2)))
    with anyio.fail_after(HANG_TIMEOUT):  # it would loop forever, not slowly: the bound only ends a hang
        async with recorder.client() as client:
            with pytest.raises(AnyreachError, match="twice"):
                async for _ in client.trunks.iter():
                    pass


async def test_an_unknown_page_shape_raises_anyreach_error(recorder: Recorder) -> None:
    recorder.queue(json_response(200, {"rows": []}))
    async with recorder.client() as client:
        with pytest.raises(AnyreachError, match="envelope"):
            await client.trunks.list()


def test_models_keep_fields_they_do_not_know() -> None:
    number = PhoneNumber.model_validate({**phone_row(), "carrier": "twilio"})
    assert number.model_extra == {"carrier": "twilio"}
    assert number.created_at == datetime(2026, 11, 7, 5, 31, 56, tzinfo=UTC)


async def test_trunk_create_sends_the_real_password_and_only_fields_given(recorder: Recorder) -> None:
    recorder.queue(json_response(201, TRUNK))
    outbound = OutboundConfig(
        address="sip.example.com:5061", auth_username="u", auth_password=SecretStr(PASSWORD), transport="TLS"
    )
    async with recorder.client() as client:
        await client.trunks.create(name="office", outbound_config=outbound)
    assert recorder.body() == {
        "name": "office",
        "outbound_config": {
            "address": "sip.example.com:5061",
            "auth_username": "u",
            "auth_password": PASSWORD,
            "transport": "TLS",
        },
    }


async def test_trunk_update_reads_the_trunk_and_sends_it_whole_with_the_change(recorder: Recorder) -> None:
    inbound = {"allowed_addresses": ["192.0.2.1/32"], "auth_password": None, "auth_password_set": False, "vendor": 1}
    current = {**TRUNK, "inbound_config": inbound, "outbound_config": None}
    recorder.queue(*(json_response(200, current) for _ in range(4)))
    async with recorder.client() as client:
        await client.trunks.update("t-1", name="renamed")
        await client.trunks.update("t-1", inbound_config=None)
    kept_inbound = {
        "enable_noise_cancellation": False,
        "media_encryption": "NONE",
        "allowed_addresses": ["192.0.2.1/32"],
        "allowed_numbers": [],
    }
    assert [r.method for r in recorder.requests] == ["GET", "PUT", "GET", "PUT"]
    assert recorder.body(1) == {"name": "renamed", "inbound_config": kept_inbound, "outbound_config": None}
    assert recorder.body(3) == {"name": "office", "inbound_config": None, "outbound_config": None}


async def test_a_trunk_update_keeping_authentication_needs_the_password_and_sends_nothing_without(
    recorder: Recorder,
) -> None:
    outbound = {"address": "sip.example.com", "auth_username": "u", "auth_password": None, "auth_password_set": True}
    recorder.queue(*(json_response(200, {**TRUNK, "outbound_config": outbound}) for _ in range(3)))
    async with recorder.client() as client:
        with pytest.raises(PasswordRequiredError) as caught:
            await client.trunks.update("t-1", name="renamed")
        await client.trunks.update("t-1", name="renamed", passwords={"outbound": SecretStr(PASSWORD)})
    assert caught.value.sides == ("outbound",)
    assert [r.method for r in recorder.requests] == ["GET", "GET", "PUT"]
    assert recorder.body()["outbound_config"]["auth_password"] == PASSWORD
    assert recorder.body()["outbound_config"]["auth_username"] == "u"


async def test_inbound_routing_update_reads_the_config_and_sends_it_whole(recorder: Recorder) -> None:
    config = {"id": "irc-1", "enabled": True, "workflow_id": "wf-1", "workflow_version": 2, "fallback_agent_id": "a"}
    recorder.queue(*(json_response(200, config) for _ in range(4)), json_response(201, config))
    async with recorder.client() as client:
        await client.inbound_routing.update(enabled=False)
        await client.inbound_routing.update(workflow_definition={"steps": []}, fallback_agent_id=None)
        await client.inbound_routing.create(workflow_id="wf-1", workflow_version=2)
    assert [r.method for r in recorder.requests] == ["GET", "PUT", "GET", "PUT", "POST"]
    assert recorder.body(1) == {
        "enabled": False,
        "workflow_id": "wf-1",
        "workflow_version": 2,
        "workflow_definition": None,
        "fallback_agent_id": "a",
    }
    assert recorder.body(3) == {
        "enabled": True,
        "workflow_id": None,
        "workflow_version": None,
        "workflow_definition": {"steps": []},
        "fallback_agent_id": None,
    }
    assert recorder.body(4) == {"enabled": True, "workflow_id": "wf-1", "workflow_version": 2}


async def test_inbound_routing_get_returns_none_for_a_json_null(recorder: Recorder) -> None:
    recorder.queue(httpx2.Response(200, content=b"null", headers={"content-type": "application/json"}))
    async with recorder.client() as client:
        assert await client.inbound_routing.get() is None


async def test_publish_accepts_a_bare_list_or_an_envelope(recorder: Recorder) -> None:
    recorder.queue(json_response(200, [phone_row()]), json_response(200, {"phone_numbers": [phone_row()]}))
    async with recorder.client() as client:
        first = await client.agents.publish("agent-1", 2, phone_numbers=["+15551230001"])
        second = await client.agents.publish("agent-1", 2, unassign_phone_numbers=["+15551230001"], direction="both")
    assert first == second
    assert recorder.requests[0].url.path == "/core/agents/agent-1/versions/2/publish"
    assert recorder.body(0) == {
        "phone_numbers": ["+15551230001"],
        "unassign_phone_numbers": [],
        "direction": "inbound",
    }
    assert recorder.body(1)["direction"] == "both"


async def test_a_read_only_client_refuses_every_write_before_sending(recorder: Recorder) -> None:
    async with recorder.client(read_only=True) as client:
        # Each call is made at its await, so a failed check leaves no coroutine never awaited.
        writes = [
            lambda: client.phone_numbers.create(phone_number="+15551230001", trunk_id="t"),
            lambda: client.phone_numbers.update("+15551230001", outbound_shareable=True),
            lambda: client.phone_numbers.delete("+15551230001"),
            lambda: client.managed_accounts.purchase_number("ma-1", phone_number="+15551230001"),
            lambda: client.trunks.create(name="x"),
            lambda: client.trunks.update("t", name="y"),
            lambda: client.trunks.delete("t"),
            lambda: client.inbound_routing.create(),
            lambda: client.inbound_routing.update(enabled=False),
            lambda: client.inbound_routing.delete(),
            lambda: client.agents.publish("a", 1, phone_numbers=["+15551230001"]),
        ]
        for write in writes:
            with pytest.raises(ReadOnlyError, match="read-only"):
                await write()
    assert recorder.requests == []
