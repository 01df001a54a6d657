"""A preview describes the record and the exposure the change really has (issue 20, points 4 to 6)."""

from __future__ import annotations

import pytest

from mcp_anyreach.api import AnyreachClient, InboundConfig
from tests.reliability.live import data
from tests.server.conftest import ServerFactory, api, connect, make_server, sandbox

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server

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
    findings = {f["code"]: f["message"] for f in report["findings"] if f["subject"] == trunk.id}
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
