"""audit_inventory against the real sandbox: findings appear and disappear as the organization changes."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp_types import TextResourceContents
from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient, InboundConfig
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ServerFactory, connect, sandbox_api

UNASSIGNED = {"+14155550102", "+12125550131", "+13125550143"}


async def audit(make_server: ServerFactory, era: str = "auto", **arguments: Any) -> dict[str, Any]:
    with anyio.fail_after(10):
        async with connect(make_server(), era) as client:
            result = await client.call_tool("audit_inventory", {"min_severity": "info", **arguments})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def subjects(report: dict[str, Any], code: str) -> set[str]:
    return {subject for finding in report["findings"] if finding["code"] == code for subject in finding["subjects"]}


def codes(report: dict[str, Any]) -> set[str]:
    return {finding["code"] for finding in report["findings"]}


async def test_the_audit_counts_the_seeded_organization_and_flags_what_an_admin_should_fix(
    make_server: ServerFactory, era: str
) -> None:
    report = await audit(make_server, era)

    assert report["sandbox"] is True
    assert report["organization"] == {"numbers": 5, "trunks": 2, "managed_trunks": 1, "byoc_trunks": 1}
    assert report["routing"]["state"] == "none"
    assert subjects(report, "number_without_inbound_agent") == UNASSIGNED
    assert subjects(report, "number_shareable_outbound") == {"+12125550131"}
    assert subjects(report, "no_routing_config") == {"routing"}
    assert subjects(report, "number_unused") == UNASSIGNED - {"+12125550131"}, "no agent, and not shareable"
    assert codes(report) == {
        "number_without_inbound_agent",
        "number_unused",
        "number_shareable_outbound",
        "no_routing_config",
    }
    assert report["counts"] == {"high": 3, "medium": 0, "low": 3, "info": 1}


async def test_each_finding_names_its_severity_and_the_tool_that_fixes_it(make_server: ServerFactory) -> None:
    report = await audit(make_server)

    fixes = {finding["code"]: (finding["severity"], finding["fix"]) for finding in report["findings"]}
    assert fixes == {
        "number_without_inbound_agent": ("high", "assign_agent_to_numbers"),
        "number_unused": ("low", "delete_phone_number"),
        "number_shareable_outbound": ("low", "update_phone_number"),
        "no_routing_config": ("info", "create_inbound_routing_config"),
    }
    severities = [finding["severity"] for finding in report["findings"]]
    assert severities == sorted(severities, key=["high", "medium", "low", "info"].index)


async def test_min_severity_hides_milder_findings_but_still_counts_them(make_server: ServerFactory) -> None:
    report = await audit(make_server, min_severity="high")

    assert codes(report) == {"number_without_inbound_agent"}
    assert report["counts"] == {"high": 3, "medium": 0, "low": 3, "info": 1}


async def test_an_enabled_routing_config_clears_the_routing_and_unanswered_number_findings(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    fallback = sandbox.seed.demo.agent_ids[0]
    await api.inbound_routing.create(
        enabled=True, workflow_id="wf_router", workflow_version=1, fallback_agent_id=fallback
    )

    report = await audit(make_server)

    assert report["routing"] == {"state": "enabled", "workflow_id": "wf_router", "fallback_agent_id": fallback}
    assert codes(report) == {"number_shareable_outbound"}


async def test_routing_without_a_fallback_agent_is_flagged(make_server: ServerFactory, api: AnyreachClient) -> None:
    await api.inbound_routing.create(enabled=True, workflow_id="wf_router", workflow_version=1)

    report = await audit(make_server)

    assert subjects(report, "routing_fallback_unset") == {"routing"}
    assert "no_routing_config" not in codes(report)


async def test_a_disabled_routing_config_brings_back_the_unanswered_numbers(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    await api.inbound_routing.create(enabled=False, workflow_id="wf_router", workflow_version=1)

    report = await audit(make_server)

    assert report["routing"]["state"] == "disabled"
    assert subjects(report, "routing_disabled") == {"routing"}
    assert subjects(report, "number_without_inbound_agent") == UNASSIGNED


async def test_assigning_an_agent_and_unsharing_a_number_clears_their_findings(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    await api.agents.publish(sandbox.seed.demo.agent_ids[2], 1, phone_numbers=["+12125550131"])
    await api.phone_numbers.update("+12125550131", outbound_shareable=False)

    report = await audit(make_server)

    assert subjects(report, "number_without_inbound_agent") == UNASSIGNED - {"+12125550131"}
    assert "number_shareable_outbound" not in codes(report)


async def test_byoc_trunks_are_flagged_for_missing_inbound_auth_or_address_allow_list(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    open_trunk = await api.trunks.create(name="Open")
    auth_only = await api.trunks.create(
        name="Auth only", inbound_config=InboundConfig(auth_username="in", auth_password=SecretStr("s3cret-in"))
    )
    allow_list_only = await api.trunks.create(
        name="Allow-list only", inbound_config=InboundConfig(allowed_addresses=["203.0.113.7/32"])
    )

    report = await audit(make_server)

    assert subjects(report, "byoc_trunk_unprotected") == {open_trunk.id}
    assert subjects(report, "byoc_trunk_open_to_any_address") == {auth_only.id}
    assert subjects(report, "byoc_trunk_without_inbound_auth") == {allow_list_only.id}
    assert subjects(report, "trunk_without_numbers") == {open_trunk.id, auth_only.id, allow_list_only.id}
    assert report["organization"]["byoc_trunks"] == 4


async def test_a_trunk_stops_being_empty_once_a_number_is_registered_on_it(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    trunk = await api.trunks.create(name="Spare PBX")
    assert trunk.id in subjects(await audit(make_server), "trunk_without_numbers")

    await api.phone_numbers.create(phone_number="+13125550199", trunk_id=trunk.id)

    report = await audit(make_server)
    assert "trunk_without_numbers" not in codes(report)
    per_trunk = {row["trunk_id"]: row["numbers"] for row in await numbers_per_trunk(make_server)}
    assert per_trunk[trunk.id] == 1


async def numbers_per_trunk(make_server: ServerFactory) -> list[dict[str, Any]]:
    async with connect(make_server(), "auto") as client:
        result = await client.read_resource("anyreach://inventory")
    (content,) = result.contents
    assert isinstance(content, TextResourceContents)
    return json.loads(content.text)["numbers_per_trunk"]


async def test_a_large_account_is_read_page_by_page_with_progress_and_findings_stay_capped(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    demo = sandbox.seed.demo
    for index in range(230):
        sandbox.store.phone_numbers.add(
            demo.org_id, f"+1646555{index:04d}", demo.byoc_trunk_id, False, number_limit=1000
        )
    reports: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    with anyio.fail_after(20):
        async with connect(make_server(), era) as client:
            result = await client.call_tool("audit_inventory", {}, progress_callback=on_progress)
    report = result.structured_content
    assert report is not None

    assert report["organization"]["numbers"] == 235
    assert len(subjects(report, "number_without_inbound_agent")) == 20
    assert report["findings_not_listed"] == {"number_without_inbound_agent": 233 - 20, "number_unused": 232 - 20}
    assert report["counts"]["high"] == 233
    progress = [done for done, _, _ in reports]
    assert progress == sorted(set(progress))
    messages = [message for _, _, message in reports]
    assert messages[-3:] == ["Read 100 phone numbers", "Read 200 phone numbers", "Read 235 phone numbers"]


async def test_a_refused_credential_becomes_a_tool_error_that_says_what_to_set(
    make_server: ServerFactory, sandbox: Sandbox
) -> None:
    async with sandbox_api(sandbox, "ak_not_a_real_key") as bad_client:
        server = make_server(client=bad_client)
        async with connect(server, "auto") as client:
            result = await client.call_tool("audit_inventory", {})

    assert result.is_error
    assert "ANYREACH_TOKEN" in str(result.content)


async def test_audit_inventory_is_offered_in_read_only_mode(make_server: ServerFactory) -> None:
    async with connect(make_server(read_only=True), "auto") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    assert tools["audit_inventory"].annotations is not None
    assert tools["audit_inventory"].annotations.read_only_hint is True


async def test_every_finding_of_a_code_can_be_paged_through_and_the_counts_agree(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    trunk = sandbox.seed.demo.byoc_trunk_id
    for index in range(60):
        await api.phone_numbers.create(phone_number=f"+1646555{index:04d}", trunk_id=trunk)
    seen: list[str] = []
    cursor: str | None = None
    async with connect(make_server(), "auto") as client:
        for _ in range(10):
            arguments = {"code": "number_without_inbound_agent", **({"cursor": cursor} if cursor else {})}
            page = (await client.call_tool("audit_inventory", arguments)).structured_content or {}
            seen += [subject for finding in page["findings"] for subject in finding["subjects"]]
            cursor = page.get("next_cursor")
            if cursor is None:
                break
        unknown = await client.call_tool("audit_inventory", {"code": "numbers_nobody_loves"})
    assert len(seen) == len(set(seen)) == page["counts"]["high"] == 63
    assert unknown.is_error


async def test_an_outbound_only_number_is_not_called_unused(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    await api.phone_numbers.create(phone_number="+16465550999", trunk_id=sandbox.seed.demo.byoc_trunk_id)
    await api.agents.publish(sandbox.seed.demo.agent_ids[2], 1, phone_numbers=["+16465550999"], direction="outbound")

    report = await audit(make_server)

    assert "+16465550999" not in subjects(report, "number_unused"), "an agent places calls from it"
    assert "+16465550999" in subjects(report, "number_without_inbound_agent"), "but nobody answers it"


# Issue 22, point 10: the audit is exact and lean.


@pytest.mark.parametrize("code", ["no_routing_config", "managed_trunk_without_numbers"])
async def test_asking_for_a_code_lists_its_findings_whatever_the_default_minimum_severity(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str, code: str
) -> None:
    managed = set(sandbox.seed.demo.managed_trunk_ids)
    async for number in api.phone_numbers.iter():
        if number.trunk_id in managed:
            await api.phone_numbers.delete(number.phone_number)

    with anyio.fail_after(10):
        async with connect(make_server(), era) as client:
            result = await client.call_tool("audit_inventory", {"code": code})
    report = result.structured_content
    assert report is not None

    assert [finding["code"] for finding in report["findings"]] == [code]
    assert subjects(report, code) == ({"routing"} if code == "no_routing_config" else managed)


async def test_a_finding_about_many_numbers_says_its_message_once_and_lists_the_numbers(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    for index in range(40):
        await api.phone_numbers.create(phone_number=f"+1646555{index:04d}", trunk_id=sandbox.seed.demo.byoc_trunk_id)

    with anyio.fail_after(10):
        async with connect(make_server(), era) as client:
            result = await client.call_tool("audit_inventory", {})
    report = result.structured_content
    assert report is not None

    unanswered = [finding for finding in report["findings"] if finding["code"] == "number_without_inbound_agent"]
    assert len(unanswered) == 1, "one message for every number it is true of"
    assert len(unanswered[0]["subjects"]) == 20
    assert "+1646555" not in unanswered[0]["message"]
    assert report["findings_not_listed"]["number_without_inbound_agent"] == 43 - 20
    assert report["counts"]["high"] == 43
    assert len(json.dumps(report)) < 3000, "40 unanswered numbers cost a list of numbers, not 40 sentences"


async def test_a_number_shareable_for_outbound_calls_is_not_called_unused(make_server: ServerFactory) -> None:
    shareable = "+12125550131"  # seeded with no agent on either slot, but shareable

    report = await audit(make_server)

    assert shareable in subjects(report, "number_shareable_outbound")
    assert shareable in subjects(report, "number_without_inbound_agent"), "nobody answers it"
    assert shareable not in subjects(report, "number_unused"), "any agent may call out from it"
