"""A preview describes the record and the exposure the change really has (issue 20, points 4 to 6)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from mcp_anyreach.api import AnyreachClient, InboundConfig
from mcp_anyreach.api.resources.phone_numbers import number_path
from mcp_anyreach.api.resources.trunks import trunk_path
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import data, texts
from tests.server.conftest import (
    ServerFactory,
    answering,
    api,
    call,
    connect,
    era,
    in_directory,
    make_server,
    questions,
    sandbox,
)

__all__ = ["api", "era", "make_server", "sandbox"]  # fixtures shared with tests/server

X, Y = "+12125550131", "+12125550132"  # two BYOC numbers of the demo organization
WRONG_RECORD = "answered for the wrong record"


class AnswersForAnother(httpx2.AsyncBaseTransport):
    """The real sandbox, except that a GET of `asked` is answered with the record at `answered`."""

    def __init__(self, sandbox: Sandbox, asked: str, answered: str) -> None:
        self._sandbox = httpx2.ASGITransport(app=sandbox.app)
        self._asked = asked.encode()
        self._answered = answered.encode()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET" and request.url.raw_path == self._asked:
            request = httpx2.Request("GET", request.url.copy_with(raw_path=self._answered), headers=request.headers)
        return await self._sandbox.handle_async_request(request)


@pytest.fixture
async def poisoned(sandbox: Sandbox) -> AsyncIterator[list[AnyreachClient]]:
    """Clients made by `lying(asked, answered)` are closed after the test."""
    opened: list[AnyreachClient] = []
    yield opened
    for client in opened:
        await client.aclose()


def lying(sandbox: Sandbox, opened: list[AnyreachClient], asked: str, answered: str) -> AnyreachClient:
    transport = AnswersForAnother(sandbox, asked, answered)
    client = AnyreachClient("http://sandbox.test", sandbox.seed.demo.api_key, transport=transport)
    opened.append(client)
    return client


# 4. A preview describes the record it will change.


async def test_a_delete_previewed_from_another_numbers_record_is_refused_before_anyone_is_asked(
    make_server: ServerFactory,
    api: AnyreachClient,
    sandbox: Sandbox,
    poisoned: list[AnyreachClient],
    era: str,
) -> None:
    server = make_server(client=lying(sandbox, poisoned, number_path(X), number_path(Y)))
    human = answering("accept", {"confirm": True})
    async with connect(server, era, elicitation_callback=human) as client:
        result = await call(client, "delete_phone_number", {"phone_number": X})
    assert result.is_error
    assert WRONG_RECORD in texts(result)
    assert questions(human) == []
    assert await in_directory(api, X)
    assert await in_directory(api, Y)


async def test_a_trunk_previewed_from_another_trunks_record_gets_no_confirmation_token(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, poisoned: list[AnyreachClient], era: str
) -> None:
    kept, shown = await api.trunks.create(name="Kept"), await api.trunks.create(name="Spare")
    server = make_server(client=lying(sandbox, poisoned, trunk_path(kept.id), trunk_path(shown.id)))
    async with connect(server, era) as client:
        deleted = await call(client, "delete_trunk", {"trunk_id": kept.id})
        renamed = await call(client, "update_trunk", {"trunk_id": kept.id, "name": "Renamed"})
    for result in (deleted, renamed):
        assert result.is_error
        assert WRONG_RECORD in texts(result)
        assert "confirmation_token" not in texts(result)
    assert (await api.trunks.get(kept.id)).name == "Kept"


async def test_an_assignment_previewed_from_another_numbers_record_changes_no_agent(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, poisoned: list[AnyreachClient], era: str
) -> None:
    before = await api.phone_numbers.get(X)
    server = make_server(client=lying(sandbox, poisoned, number_path(X), number_path(Y)))
    human = answering("accept", {"confirm": True})
    arguments = {"agent_id": sandbox.seed.demo.agent_ids[2], "version": 1, "phone_numbers": [X]}
    async with connect(server, era, elicitation_callback=human) as client:
        result = await call(client, "assign_agent_to_numbers", arguments)
    assert result.is_error
    assert WRONG_RECORD in texts(result)
    assert questions(human) == []
    assert await api.phone_numbers.get(X) == before


# Every IPv4 address, written as the IPv6 a dual-stack stack, a NAT64 gateway or an old stack sees.
IPV4_THROUGH_IPV6 = ["::ffff:0:0/96", "64:ff9b::/96", "::/96"]


# 5. IPv4 seen through IPv6 counts as IPv4.


@pytest.mark.parametrize("addresses", IPV4_THROUGH_IPV6)
async def test_opening_a_trunk_to_all_ipv4_written_as_ipv6_is_warned_in_the_preview(
    make_server: ServerFactory, api: AnyreachClient, addresses: str
) -> None:
    trunk = await api.trunks.create(name="Carrier")
    arguments = {"trunk_id": trunk.id, "inbound": {"allowed_addresses": [addresses]}}
    async with connect(make_server(), "legacy") as client:
        preview = data(await client.call_tool("update_trunk", arguments))
    assert "WARNING: with no authentication, anyone at all IPv4 addresses could send calls" in preview["message"]


@pytest.mark.parametrize("addresses", IPV4_THROUGH_IPV6)
async def test_a_trunk_open_to_all_ipv4_written_as_ipv6_is_unprotected_in_the_audit(
    make_server: ServerFactory, api: AnyreachClient, addresses: str
) -> None:
    trunk = await api.trunks.create(name="Wide", inbound_config=InboundConfig(allowed_addresses=[addresses]))
    async with connect(make_server(), "auto") as client:
        report = data(await client.call_tool("audit_inventory", {"min_severity": "info"}))
    findings = {f["code"]: f["message"] for f in report["findings"] if trunk.id in f["subjects"]}
    assert "all IPv4 addresses" in findings["byoc_trunk_unprotected"]


@pytest.mark.parametrize(
    ("addresses", "phrase"),
    [("::ffff:0:0/97", "about 50% of all IPv4 addresses"), ("::/64", "all IPv4 addresses")],
)
async def test_part_of_ipv4_or_a_range_holding_it_written_as_ipv6_is_measured_as_ipv4(
    make_server: ServerFactory, api: AnyreachClient, addresses: str, phrase: str
) -> None:
    trunk = await api.trunks.create(name="Carrier")
    arguments = {"trunk_id": trunk.id, "inbound": {"allowed_addresses": [addresses]}}
    async with connect(make_server(), "legacy") as client:
        preview = data(await client.call_tool("update_trunk", arguments))
    assert f"anyone at {phrase} could send calls" in preview["message"]


# 6. A trunk created open to everyone is gated.

OPEN = "WARNING: with no authentication, anyone at every address (allowed_addresses is empty) could send calls"
OPEN_CREATIONS: dict[str, dict[str, Any]] = {
    "nothing-given": {"name": "Open PBX"},
    "no-auth-no-addresses": {"name": "Open PBX", "inbound": {"allowed_addresses": []}},
}


@pytest.mark.parametrize("arguments", OPEN_CREATIONS.values(), ids=OPEN_CREATIONS.keys())
async def test_a_trunk_open_to_everyone_is_only_previewed_with_the_warning_until_confirmed(
    make_server: ServerFactory, api: AnyreachClient, era: str, arguments: dict[str, object]
) -> None:
    before = [trunk.id async for trunk in api.trunks.iter()]
    async with connect(make_server(), era) as client:
        preview = data(await call(client, "create_trunk", arguments))
    assert preview["status"] == "confirmation_required"
    assert OPEN in preview["message"]
    assert [trunk.id async for trunk in api.trunks.iter()] == before


async def test_the_human_asked_about_a_new_trunk_sees_its_exposure_and_a_no_creates_nothing(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    before = [trunk.id async for trunk in api.trunks.iter()]
    human = answering("decline")
    async with connect(make_server(), era, elicitation_callback=human) as client:
        declined = data(
            await call(
                client, "create_trunk", {"name": "Wide PBX", "inbound": {"allowed_addresses": ["::ffff:0:0/96"]}}
            )
        )
    assert declined["status"] == "declined"
    [question] = questions(human)
    assert "WARNING: with no authentication, anyone at all IPv4 addresses could send calls" in question
    assert [trunk.id async for trunk in api.trunks.iter()] == before


async def test_a_change_set_creating_a_trunk_without_inbound_config_warns_before_it_is_applied(
    make_server: ServerFactory, era: str
) -> None:
    document = "trunks:\n  items:\n    - name: Open PBX\n"
    async with connect(make_server(), era) as client:
        plan = data(await call(client, "plan_changes", {"desired_state": document}))
        preview = data(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))
    warning = "WARNING: trunk 'Open PBX' would accept calls without authentication from every address"
    assert preview["status"] == "confirmation_required"
    assert warning in preview["message"]
