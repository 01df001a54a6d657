"""Each view rendered by chromium inside a test host that forwards the view's calls to the real server."""

from __future__ import annotations

import json
import re
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp_types import TextResourceContents

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.server.registry import SPEC_BY_NAME
from mcp_anyreach.server.views import VIEWS
from mcp_anyreach.settings import Settings
from tests.server.conftest import answering, questions, sandbox_api
from tests.views.browser import host_page, screenshot, show
from tests.views.conftest import apps_client

BYOC_TRUNK = "Demo Telephony Co PBX (BYOC)"
MANAGED_TRUNK = "Anyreach managed numbers"
RENDER_TIMEOUT = 60.0
PAGE_OF = {view.name: view.path for view in VIEWS}
# The shapes issue 12 gives explain_inbound_call's and plan_changes's results, for the views before those tools land.
SAMPLE_EXPLANATION = {
    "phone_number": "+14155550102",
    "caller_number": "+15105550123",
    "outcome": "dropped",
    "answer": "The call is disconnected: there is no inbound routing config, and no agent is on the number's "
    "inbound slot.",
    "steps": [
        {
            "check": "directory",
            "finding": "In the directory, on trunk 5f0c9e2a.",
            "source": "anyreach://phone-numbers/+14155550102",
        },
        {
            "check": "trunk",
            "finding": "On the managed trunk 'Anyreach managed numbers': calls arrive through Anyreach.",
        },
        {"check": "routing", "finding": "There is no inbound routing config: the number's own inbound agent answers."},
        {
            "check": "number_agent",
            "finding": "Its inbound slot is empty.",
            "source": "anyreach://phone-numbers/+14155550102",
        },
    ],
}
SAMPLE_PLAN = {
    "plan_id": "pln_7c1d2e3f",
    "summary": "3 steps: 1 delete number, 1 register number, 1 publish.",
    "impact": [
        "1 numbers move (steps 1-3): each is out of the directory from its delete until it is registered again, "
        "a moment per number; calls to it fail meanwhile. Sharing and both agent slots are kept.",
        "Trunk 'New carrier' changes; the calls of its 2 numbers follow at once.",
    ],
    "notes": [],
    "steps": [
        {"n": 1, "action": "delete_number", "detail": "Delete +12125550132 from trunk 'Demo Telephony Co PBX (BYOC)'."},
        {"n": 2, "action": "register_number", "detail": "Register +12125550132 on trunk 'New carrier'."},
        {"n": 3, "action": "publish", "detail": "Publish 'After-hours' v1 on +12125550132 (inbound and outbound)."},
    ],
    "expires_in_seconds": 900,
    "next": "Nothing changed yet. To make these changes, call apply_changes with this plan_id.",
}


async def view_for(client: Client, tool: str) -> str:
    """The HTML of the view `tool` points at, read the way a host reads it."""
    listed = {listed.name: listed for listed in (await client.list_tools()).tools}
    uri = (listed[tool].meta or {})["ui"]["resourceUri"]
    (content,) = (await client.read_resource(uri)).contents
    assert isinstance(content, TextResourceContents)
    return content.text


async def called(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What a host has when the model calls `tool`: the view's HTML and the call's result."""
    html = await view_for(client, tool)
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return html, result.model_dump(by_alias=True, mode="json", exclude_none=True)


def pages(first: str, last: str) -> re.Pattern[str]:
    """The pager's "1-25 of 2,003" (typeset with an en dash)."""
    return re.compile(rf"^{first}.{last} of 2,003$")


def trunk(frame: Any, name: str) -> Any:
    return frame.locator("li.trunk").filter(has=frame.locator(".trunk-name", has_text=name))


async def test_inventory_view_shows_numbers_by_trunk_with_their_agents_and_the_findings(
    server: MCPServer, browser: Any
) -> None:
    with anyio.fail_after(RENDER_TIMEOUT):
        async with apps_client(server) as client, host_page(browser, client) as (page, record):
            html, result = await called(client, "audit_inventory", {})
            frame = await show(page, html=html, tool="audit_inventory", arguments={}, result=result)

            await frame.get_by_test_id("numbers").filter(has_text="5").wait_for()
            byoc_rows = trunk(frame, BYOC_TRUNK).locator("tbody tr")
            await byoc_rows.filter(has_text="+12125550132").filter(has_text="After-hours v1").wait_for()
            await (
                trunk(frame, MANAGED_TRUNK)
                .locator("tbody tr", has_text="+14155550101")
                .filter(has_text="Support v2")
                .wait_for()
            )
            assert await byoc_rows.count() == 3
            assert await frame.locator(".group[data-kind=managed] .trunk-name").all_inner_texts() == [MANAGED_TRUNK]
            assert await frame.locator(".group[data-kind=byoc] .trunk-name").all_inner_texts() == [BYOC_TRUNK]
            await frame.get_by_text("No inbound routing config").wait_for()
            await screenshot(page, "inventory")

            await frame.get_by_role("button", name="High (").click()
            shown = set(await frame.locator(".finding .pill").all_inner_texts())
            assert shown == {"high"}
            unanswered = await frame.locator(".finding .subjects").all_inner_texts()
            assert unanswered == ["+14155550102, +12125550131, +13125550143"], "one finding, its numbers listed"

    assert record.errors == []
    assert [url for url in record.requests if not url.startswith(("about:", "data:"))] == []
    assert ("resources/read", "anyreach://inventory") in record.calls
    assert ("tools/call", "list_phone_numbers") in record.calls


async def test_inventory_view_pages_a_trunk_of_thousands_of_numbers_without_a_giant_table(
    server: MCPServer, sandbox: Sandbox, browser: Any
) -> None:
    sandbox.store.bulk_add_numbers(sandbox.seed.demo.org_id, sandbox.seed.demo.byoc_trunk_id, 2_000)
    with anyio.fail_after(RENDER_TIMEOUT):
        async with apps_client(server) as client, host_page(browser, client) as (page, record):
            html, result = await called(client, "audit_inventory", {"min_severity": "high"})
            frame = await show(page, html=html, tool="audit_inventory", arguments={}, result=result)
            byoc = trunk(frame, BYOC_TRUNK)
            await byoc.get_by_text("2,003 numbers").wait_for()
            await byoc.get_by_role("button", name="Show numbers").click()
            await byoc.get_by_text(pages("1", "25")).wait_for()
            await byoc.get_by_role("button", name="Next").click()
            await byoc.get_by_text(pages("26", "50")).wait_for()
            await byoc.get_by_role("button", name="Previous").click()
            await byoc.get_by_text(pages("1", "25")).wait_for()

            assert await byoc.locator("tbody tr").count() == 25
            assert await frame.locator("tr, li").count() < 150  # one page of numbers and capped findings

    assert record.errors == []


@pytest.mark.parametrize("added", [0, 45], ids=["demo-5-numbers", "exactly-50-numbers"])
async def test_a_small_account_shows_who_answers_every_number_without_a_click(
    server: MCPServer, sandbox: Sandbox, browser: Any, added: int
) -> None:
    sandbox.store.bulk_add_numbers(sandbox.seed.demo.org_id, sandbox.seed.demo.byoc_trunk_id, added)
    with anyio.fail_after(RENDER_TIMEOUT):
        async with apps_client(server) as client, host_page(browser, client) as (page, record):
            html, result = await called(client, "audit_inventory", {})
            frame = await show(page, html=html, tool="audit_inventory", arguments={}, result=result)
            byoc, managed = trunk(frame, BYOC_TRUNK), trunk(frame, MANAGED_TRUNK)
            await byoc.locator("tbody tr", has_text="+12125550132").filter(has_text="After-hours v1").wait_for()
            await managed.locator("tbody tr", has_text="+14155550101").filter(has_text="Support v2").wait_for()
            await byoc.get_by_text(re.compile(rf"^1.{3 + added} of {3 + added}$")).wait_for()

            assert await byoc.locator("tbody tr").count() == 3 + added, "every number on one page"
            assert await managed.locator("tbody tr").count() == 2
            assert await byoc.get_by_role("button", name="Next").is_disabled()
            assert await frame.get_by_role("button", name="Show numbers").count() == 0
            await byoc.get_by_role("button", name="Hide numbers").click()
            assert await byoc.locator("tbody tr").count() == 0, "the human can still fold a trunk away"

    assert record.errors == []


async def test_an_account_of_more_than_50_numbers_keeps_its_trunks_folded_until_asked(
    server: MCPServer, sandbox: Sandbox, browser: Any
) -> None:
    sandbox.store.bulk_add_numbers(sandbox.seed.demo.org_id, sandbox.seed.demo.byoc_trunk_id, 46)
    with anyio.fail_after(RENDER_TIMEOUT):
        async with apps_client(server) as client, host_page(browser, client) as (page, record):
            html, result = await called(client, "audit_inventory", {})
            frame = await show(page, html=html, tool="audit_inventory", arguments={}, result=result)
            byoc = trunk(frame, BYOC_TRUNK)
            await byoc.get_by_text("49 numbers").wait_for()
            await frame.get_by_test_id("numbers").filter(has_text="51").wait_for()

            assert await frame.locator("tbody tr").count() == 0
            assert await frame.get_by_role("button", name="Show numbers").count() == 2
            await byoc.get_by_role("button", name="Show numbers").click()
            await byoc.get_by_text(re.compile(r"^1.25 of 49$")).wait_for()

    assert record.errors == []
    assert ("tools/call", "list_phone_numbers") in record.calls


async def test_inventory_view_takes_the_hosts_dark_theme(server: MCPServer, browser: Any) -> None:
    with anyio.fail_after(RENDER_TIMEOUT):
        async with apps_client(server) as client, host_page(browser, client) as (page, record):
            html, result = await called(client, "audit_inventory", {})
            frame = await show(page, html=html, tool="audit_inventory", arguments={}, result=result, theme="dark")
            await trunk(frame, BYOC_TRUNK).wait_for()
            colors = await frame.locator("body").evaluate(
                "body => [getComputedStyle(body).backgroundColor, getComputedStyle(body).color]"
            )
            await screenshot(page, "inventory-dark")

    assert colors == ["rgb(38, 38, 36)", "rgb(245, 244, 239)"]  # the host's variables, not the view's defaults
    assert record.errors == []


def registered(*tools: str) -> bool:
    return all(tool in SPEC_BY_NAME for tool in tools)


async def test_call_route_view_draws_each_hop_and_where_the_call_is_dropped(browser: Any, server: MCPServer) -> None:
    html = PAGE_OF["call-route"].read_text(encoding="utf-8")
    with anyio.fail_after(RENDER_TIMEOUT):
        async with apps_client(server) as client, host_page(browser, client) as (page, record):
            arguments = {"phone_number": "+14155550102", "caller_number": "+15105550123"}
            frame = await show(
                page, html=html, tool="explain_inbound_call", arguments=arguments, result=sample(SAMPLE_EXPLANATION)
            )
            await frame.get_by_text("The call is disconnected").wait_for()
            hops = await frame.locator(".hop").evaluate_all("hops => hops.map(hop => [hop.dataset.hop, hop.className])")
            trunk_value = await frame.locator(".hop[data-hop=trunk] .hop-value").inner_text()

    assert [name for name, _ in hops] == ["caller", "number", "trunk", "routing", "agent"]
    assert dict(hops)["agent"] == "hop stopped"
    assert trunk_value == "Anyreach managed numbers (managed)"
    assert record.errors == []


@pytest.mark.skipif(
    not registered("explain_inbound_call"), reason="explain_inbound_call is not registered yet (issue 12)"
)
async def test_call_route_view_traces_a_real_call_through_the_server(server: MCPServer, browser: Any) -> None:
    with anyio.fail_after(RENDER_TIMEOUT):
        async with apps_client(server) as client, host_page(browser, client) as (page, record):
            arguments = {"phone_number": "+14155550101", "caller_number": "+15105550123"}
            html, result = await called(client, "explain_inbound_call", arguments)
            frame = await show(page, html=html, tool="explain_inbound_call", arguments=arguments, result=result)
            await frame.locator(".hop.answered", has_text="Support v2").wait_for()
            await frame.locator(".hop[data-hop=trunk]", has_text=MANAGED_TRUNK).wait_for()
            await screenshot(page, "call-route")

    assert record.errors == []


async def test_change_set_view_lists_the_steps_and_highlights_the_outage(browser: Any, server: MCPServer) -> None:
    html = PAGE_OF["change-set"].read_text(encoding="utf-8")
    with anyio.fail_after(RENDER_TIMEOUT):
        async with apps_client(server) as client, host_page(browser, client) as (page, record):
            frame = await show(page, html=html, tool="plan_changes", arguments={}, result=sample(SAMPLE_PLAN))
            await frame.get_by_role("button", name="Approve 3 steps").wait_for()
            steps = await frame.locator("tr[data-step]").count()
            risks = await frame.locator(".impact li.risk").all_inner_texts()

    assert steps == 3
    assert ["calls to it fail" in risk for risk in risks] == [True]  # the outage stands out; the rest does not
    assert record.calls == []  # showing a plan calls nothing
    assert record.errors == []


async def test_change_set_view_draws_moves_sharing_an_entry_as_one_row_naming_each_number_and_counts_every_step(
    api: AnyreachClient, browser: Any, server: MCPServer
) -> None:
    carrier = (await api.trunks.create(name="Carrier B")).id
    numbers = ["+12125550131", "+12125550132", "+13125550143"]  # the seed's BYOC numbers: 7 steps to move them
    arguments = {"operations": [{"op": "move_numbers", "phone_numbers": numbers, "to_trunk_id": carrier}]}
    with anyio.fail_after(RENDER_TIMEOUT):
        async with apps_client(server) as client, host_page(browser, client) as (page, record):
            html, result = await called(client, "plan_changes", arguments)
            frame = await show(page, html=html, tool="plan_changes", arguments=arguments, result=result)
            await frame.get_by_role("button", name="Approve 7 steps").wait_for()
            rows = await frame.locator("tr[data-step]").all_inner_texts()

    (row,) = rows
    assert row.startswith("1-7")
    assert [number for number in numbers if number not in row] == []
    assert "'After-hours' v1 inbound and outbound" in row
    assert record.errors == []


@pytest.mark.skipif(
    not registered("plan_changes", "apply_changes"),
    reason="plan_changes and apply_changes are not registered yet (issue 12)",
)
async def test_approving_in_the_change_set_view_when_the_human_declines_changes_nothing(
    api: AnyreachClient, browser: Any, server: MCPServer
) -> None:
    human = answering("decline")
    numbers = ["+12125550131", "+12125550132"]  # the second is answered: deleting it leaves callers unanswered
    with anyio.fail_after(RENDER_TIMEOUT):
        async with (
            apps_client(server, elicitation_callback=human) as client,
            host_page(browser, client) as (page, record),
        ):
            arguments = {"operations": [{"op": "delete_numbers", "phone_numbers": numbers}]}
            html, result = await called(client, "plan_changes", arguments)
            frame = await show(page, html=html, tool="plan_changes", arguments=arguments, result=result)
            await screenshot(page, "change-set")
            await frame.get_by_role("button", name="Approve").click()
            await frame.get_by_text("Declined: nothing was changed.").wait_for()

    assert ("tools/call", "apply_changes") in record.calls
    assert len(questions(human)) == 1  # the gate asked the human; the view could not answer for them
    assert [(await api.phone_numbers.get(number)).phone_number for number in numbers] == numbers
    assert record.errors == []


def sample(structured: dict[str, Any]) -> dict[str, Any]:
    """A tool result as the server sends one: compact JSON text plus the same structured content."""
    return {"content": [{"type": "text", "text": json.dumps(structured)}], "structuredContent": structured}


async def test_on_a_server_of_several_organizations_the_inventory_view_reads_and_calls_only_in_the_one_named(
    sandbox: Sandbox, browser: Any
) -> None:
    org_id = f"{sandbox.seed.demo.org_id}=Demo,{sandbox.seed.other.org_id}=Other"
    settings = Settings(sandbox=True, org_id=org_id)
    clients = {named: sandbox_api(sandbox, sandbox.seed.user.pat, named.id) for named in settings.organizations}
    server = build_server(settings, clients, sandbox=True)
    arguments = {"organization": "Other"}
    with anyio.fail_after(RENDER_TIMEOUT):
        async with apps_client(server) as client, host_page(browser, client) as (page, record):
            html, result = await called(client, "audit_inventory", arguments)
            frame = await show(page, html=html, tool="audit_inventory", arguments=arguments, result=result)
            await frame.locator("tbody tr", has_text="+16175550111").first.wait_for()
            shown = await frame.locator("body").inner_text()

    assert "+14155550101" not in shown, "nothing of the other organization is drawn"
    assert record.errors == []
    assert ("resources/read", "anyreach://organizations/Other/inventory") in record.calls
    assert ("tools/call", "list_phone_numbers") in record.calls
    for client_of_one in clients.values():
        await client_of_one.aclose()
