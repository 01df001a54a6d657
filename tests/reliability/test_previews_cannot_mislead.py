"""Previews show everything that matters and nothing that hides: wide networks, every address, no escapes."""

from __future__ import annotations

import pytest

from mcp_anyreach.api import AnyreachClient, InboundConfig
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import data, texts
from tests.server.conftest import ServerFactory, api, connect, make_server, sandbox

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server

HALVES = ["0.0.0.0/1", "128.0.0.0/1"]
CARRIER = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"]


# 5. Nothing dangerous is hidden by truncation.


async def test_opening_a_trunk_to_the_internet_in_two_halves_is_warned_and_every_address_is_listed(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    inbound = {"allowed_addresses": [*CARRIER, *HALVES]}
    arguments = {"trunk_id": (await api.trunks.create(name="Carrier")).id, "inbound": inbound}
    async with connect(make_server(), "legacy") as client:
        preview = data(await client.call_tool("update_trunk", arguments))
    assert "WARNING" in preview["message"]
    assert "all IPv4 addresses" in preview["message"]
    for address in [*CARRIER, *HALVES]:
        assert address in preview["message"]


@pytest.mark.parametrize(
    ("addresses", "finding"),
    [
        (HALVES, "byoc_trunk_unprotected"),
        (["10.0.0.0/7"], "byoc_trunk_unprotected"),
        (["2001::/16"], "byoc_trunk_unprotected"),
        (["198.51.100.0/24"], "byoc_trunk_without_inbound_auth"),
    ],
)
async def test_the_audit_judges_a_trunk_by_how_much_of_the_internet_its_addresses_cover(
    make_server: ServerFactory, api: AnyreachClient, addresses: list[str], finding: str
) -> None:
    trunk = await api.trunks.create(name="Wide", inbound_config=InboundConfig(allowed_addresses=addresses))
    async with connect(make_server(), "auto") as client:
        report = data(await client.call_tool("audit_inventory", {"min_severity": "info"}))
    codes = {f["code"] for f in report["findings"] if trunk.id in f["subjects"]}
    assert codes - {"trunk_without_numbers"} == {finding}


# 6. No control characters reach a human.


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("update_trunk", {"name": "Carrier \u202eA"}),
        ("update_trunk", {"name": "Carrier\u200bA"}),
        ("update_trunk", {"name": "Carrier \x1b[2J"}),
        ("update_trunk", {"name": "Carrier \x85"}),
        ("create_inbound_routing_config", {"workflow_id": "wf main"}),
        ("create_inbound_routing_config", {"workflow_id": "wf_\x1b[31m"}),
        ("create_inbound_routing_config", {"workflow_id": "wf", "fallback_agent_id": "agt\u2066x"}),
        ("assign_agent_to_numbers", {"agent_id": "agt\nx", "version": 1, "phone_numbers": ["+14155550102"]}),
        ("delete_trunk", {"trunk_id": "trk\u202e1"}),
    ],
)
async def test_hidden_characters_in_ids_and_names_are_refused_before_anyone_is_asked(
    make_server: ServerFactory, sandbox: Sandbox, tool: str, arguments: dict[str, object]
) -> None:
    if tool == "update_trunk":
        arguments = {"trunk_id": sandbox.seed.demo.byoc_trunk_id, **arguments}
    async with connect(make_server(), "legacy") as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert "confirmation_token" not in texts(result)


async def test_text_from_the_api_is_shown_with_its_hidden_characters_escaped(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    await api.inbound_routing.create(workflow_id="wf_\u202egnitset\x1b[8m", fallback_agent_id="agt_\u200bx")
    async with connect(make_server(), "legacy") as client:
        preview = data(await client.call_tool("delete_inbound_routing_config", {}))
    message = preview["message"]
    assert "\u202e" not in message
    assert "\x1b" not in message
    assert "\u200b" not in message
    assert "\\u202e" in message
    assert "\\u001b" in message
