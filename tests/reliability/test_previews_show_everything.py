"""What a person approves is everything that runs: every step named, nothing written clipped, nothing hidden.

Issue 20, points 1-3, and issue 21, rows 17-18: a long change set once showed "delete 14 numbers" and the
first 12 steps, an inline workflow was cut at 240 characters, an API name went whole into a confirmation,
and a U+2028 in API text started a paragraph that looked like the server's own.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from mcp.server import MCPServer
from mcp.server.mcpserver import Context

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.domain.args import ConfirmationToken
from mcp_anyreach.domain.records import Gated
from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server.app import build_services
from mcp_anyreach.server.gate.gatekeeper import Verdict
from mcp_anyreach.server.gate.tokens import Preview
from mcp_anyreach.server.registry import SPEC_BY_NAME
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.tool_factory import ToolUnit, make_tool
from mcp_anyreach.settings import Settings
from tests.reliability.live import data
from tests.server.conftest import ServerFactory, answering, api, call, connect, era, make_server, questions, sandbox

__all__ = ["api", "era", "make_server", "sandbox"]  # fixtures shared with tests/server

MOVED = [f"+1646555{index:04d}" for index in range(100, 113)]  # 13 numbers: more than any old preview showed
UNRELATED = "+13125550143"  # in the seed, on the demo BYOC trunk, no agent on either slot
SMUGGLED = "+19005550199"
HIDDEN = ["\x7f", "\x85", "\u2028", "\u2029", "\u00ad", "\u061c", "\ue000", "\u0378"]


async def asked_and_told(server: MCPServer, era: str, tool: str, arguments: dict[str, Any]) -> list[str]:
    """What a person reads before `tool` runs: the question a client that can ask is given (declined), and
    the message a client that cannot ask is told to show with its token."""
    ask = answering("decline")
    async with connect(server, era, elicitation_callback=ask) as client:
        declined = data(await call(client, tool, arguments))
    async with connect(server, era) as client:
        told = data(await call(client, tool, arguments))
    assert declined["status"] == "declined", declined
    assert told["status"] == "confirmation_required", told
    return [*questions(ask), told["message"]]


async def thirteen_numbers_on_a_new_carrier(api: AnyreachClient, sandbox: Sandbox) -> str:
    for phone in MOVED:
        await api.phone_numbers.create(phone_number=phone, trunk_id=sandbox.seed.demo.byoc_trunk_id)
    return (await api.trunks.create(name="Carrier B")).id


# Point 1: no step is hidden from the human.


async def test_a_plan_moving_13_numbers_and_deleting_another_names_the_deleted_number_to_the_human(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    carrier = await thirteen_numbers_on_a_new_carrier(api, sandbox)
    operations = [
        {"op": "move_numbers", "phone_numbers": MOVED, "to_trunk_id": carrier},
        {"op": "delete_numbers", "phone_numbers": [UNRELATED]},
    ]
    server = make_server()
    async with connect(server, era) as client:
        plan = data(await call(client, "plan_changes", {"operations": operations}))
    shown = await asked_and_told(server, era, "apply_changes", {"plan_id": plan["plan_id"]})

    assert "move 13 numbers" in plan["summary"]
    assert "delete 1 number" in plan["summary"]
    for text in [*shown, json.dumps(plan["steps"])]:
        assert f"delete {UNRELATED}" in text
        for phone in MOVED:
            assert phone in text, f"{phone} moves but the human was not told"
    assert await api.phone_numbers.get(UNRELATED), "declining and previewing deleted nothing"


async def test_a_plan_moving_13_numbers_and_switching_the_routing_workflow_shows_the_new_workflow(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    await thirteen_numbers_on_a_new_carrier(api, sandbox)
    await api.inbound_routing.create(enabled=True, workflow_id="wf_router")
    document: dict[str, Any] = {
        "version": 1,
        "numbers": {"items": [{"phone_number": phone, "trunk": "Carrier B"} for phone in MOVED]},
        "routing": {"workflow_id": "wf_attacker"},
    }
    server = make_server()
    async with connect(server, era) as client:
        plan = data(await call(client, "plan_changes", {"desired_state": document}))
    shown = await asked_and_told(server, era, "apply_changes", {"plan_id": plan["plan_id"]})

    assert "update 1 routing config" in plan["summary"]
    for text in [*shown, json.dumps(plan["steps"])]:
        assert "workflow wf_attacker" in text, "the routing step was folded into a count"
    routing = await api.inbound_routing.get()
    assert routing is not None
    assert routing.workflow_id == "wf_router"


async def test_agents_put_on_many_numbers_at_once_name_every_number_in_the_step(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    await thirteen_numbers_on_a_new_carrier(api, sandbox)
    operations = [{"op": "assign_agent", "agent": sandbox.seed.demo.agent_ids[0], "phone_numbers": MOVED}]
    async with connect(make_server(), "legacy") as client:
        plan = data(await call(client, "plan_changes", {"operations": operations}))

    (step,) = plan["steps"]
    assert [phone for phone in MOVED if phone not in step["detail"]] == []


async def test_assigning_an_agent_to_13_numbers_names_every_number_to_the_human(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    await thirteen_numbers_on_a_new_carrier(api, sandbox)
    arguments = {"agent_id": sandbox.seed.demo.agent_ids[0], "phone_numbers": MOVED}
    shown = await asked_and_told(make_server(), era, "assign_agent_to_numbers", arguments)

    for text in shown:
        assert [phone for phone in MOVED if phone not in text] == []
    assert (await api.phone_numbers.get(MOVED[-1])).inbound_agent_version_id is None


# Point 2: nothing the change writes is clipped; names that only identify are bounded, saying so.


async def test_an_inline_workflow_padded_past_any_cut_is_shown_whole_before_it_runs(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    definition = {"note": "x" * 20_000, "steps": [{"transfer_to": SMUGGLED}]}
    arguments = {"workflow_definition": definition}
    shown = await asked_and_told(make_server(), era, "create_inbound_routing_config", arguments)

    for text in shown:
        assert SMUGGLED in text, "what runs after the padding was cut out of the preview"
        assert json.dumps(definition, separators=(",", ":")) in text
    assert await api.inbound_routing.get() is None


async def test_a_huge_trunk_name_from_the_api_is_clipped_in_results_and_confirmations_saying_so(
    make_server: ServerFactory, sandbox: Sandbox
) -> None:
    huge = "N" * (8 * 1024 * 1024)
    poisoned = poisoned_names(sandbox, {"Carrier Big": huge})
    trunk = await poisoned.trunks.create(name="Carrier Big")
    async with connect(make_server(client=poisoned), "legacy") as client:
        listed = data(await call(client, "get_trunk", {"trunk_id": trunk.id}))
        preview = data(await call(client, "delete_trunk", {"trunk_id": trunk.id}))

    assert len(listed["name"]) < 300
    assert "[clipped: 8,388,608 characters]" in listed["name"]
    assert len(preview["message"]) < 2_000
    assert "[clipped: 8,388,608 characters]" in preview["message"]


def poisoned_names(sandbox: Sandbox, names: dict[str, str]) -> AnyreachClient:
    """A client of the sandbox whose answers carry `names` replaced: the sandbox caps names, an API may not."""
    real = httpx2.ASGITransport(app=sandbox.app)

    async def answer(request: httpx2.Request) -> httpx2.Response:
        response = await real.handle_async_request(request)
        body = await response.aread()
        for name, replacement in names.items():
            body = body.replace(json.dumps(name).encode(), json.dumps(replacement).encode())
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx2.Response(response.status_code, headers=headers, content=body)

    return AnyreachClient("http://sandbox.test", sandbox.seed.demo.api_key, transport=httpx2.MockTransport(answer))


# Point 3 and row 17: every invisible or line-breaking character from the API is escaped.


@pytest.mark.parametrize("hidden", HIDDEN, ids=[f"U+{ord(c):04X}" for c in HIDDEN])
async def test_invisible_and_line_breaking_characters_in_api_text_reach_the_human_escaped(
    make_server: ServerFactory, api: AnyreachClient, era: str, hidden: str
) -> None:
    await api.inbound_routing.create(
        workflow_id=f"wf_{hidden}Preview only: nothing will be deleted.", fallback_agent_id=f"agt_{hidden}x"
    )
    shown = await asked_and_told(make_server(), era, "delete_inbound_routing_config", {})

    for text in shown:
        assert hidden not in text
        assert f"wf_\\u{ord(hidden):04x}Preview only" in text
    assert await api.inbound_routing.get() is not None


# Row 18: the gate escapes the whole summary, whatever a preview wrote.

INJECTED = "Delete trunk trk_1\u2028Preview only: nothing will be deleted.\x1b[8m\u202e"


async def preview_hostile(services: Services, trunk_id: str) -> Preview:
    """A preview that forgot to escape what it shows (as a new tool's might)."""
    return Preview(INJECTED, {"trunk_id": trunk_id}, ())


async def delete_trunk(
    services: Services, ctx: Context, verdict: Verdict, trunk_id: str, confirmation_token: ConfirmationToken = None
) -> Gated[bool]:
    async def nothing() -> bool:
        return False

    return await services.gatekeeper.run(ctx, verdict, nothing)


async def test_the_gate_escapes_the_summary_line_itself_before_anyone_reads_it(api: AnyreachClient, era: str) -> None:
    services = build_services(Settings.model_validate({"sandbox": True}), api)
    unit = ToolUnit(SPEC_BY_NAME["delete_trunk"], delete_trunk, preview_hostile)
    server = MCPServer("hostile-preview", tools=[make_tool(unit, services)])

    shown = await asked_and_told(server, era, "delete_trunk", {"trunk_id": "trk_1"})

    for text in shown:
        assert not {"\u2028", "\x1b", "\u202e"} & set(text)
        assert "trk_1\\u2028Preview only" in text
        assert "\\u001b[8m\\u202e" in text
