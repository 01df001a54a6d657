"""An agent whose `active` is false answers nobody well: assigning it warns, explain and the audit say so."""

from __future__ import annotations

from typing import Any

from mcp_types import CallToolResult

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ServerFactory, answering, call, connect, questions

SILENT = "+14155550102"  # managed, nobody on its slots
LEGACY_IVR = 3  # the seeded agent that is switched off (active: false)


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def switched_off_agent(sandbox: Sandbox) -> str:
    return sandbox.seed.demo.agent_ids[LEGACY_IVR]


async def test_assigning_a_switched_off_agent_warns_in_the_preview(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    arguments = {"agent_id": switched_off_agent(sandbox), "phone_numbers": [SILENT]}
    async with connect(make_server(), era) as client:
        preview = structured(await call(client, "assign_agent_to_numbers", arguments))

    assert preview["status"] == "confirmation_required"
    assert "WARNING: agent 'Legacy IVR'" in preview["message"]
    assert f"switched off (active: false); calls to or from {SILENT}" in preview["message"]


async def test_the_human_asked_to_assign_a_switched_off_agent_sees_the_warning(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    asked = answering("decline")
    arguments = {"agent_id": switched_off_agent(sandbox), "phone_numbers": [SILENT]}
    async with connect(make_server(), era, elicitation_callback=asked) as client:
        await call(client, "assign_agent_to_numbers", arguments)

    (question,) = questions(asked)
    assert "switched off" in question


async def test_a_change_set_putting_a_switched_off_agent_on_a_number_warns_in_its_impact(
    make_server: ServerFactory,
) -> None:
    operations = [{"op": "assign_agent", "agent": "Legacy IVR", "phone_numbers": [SILENT]}]
    async with connect(make_server(), "auto") as client:
        plan = structured(await call(client, "plan_changes", {"operations": operations}))

    (warning,) = [line for line in plan["impact"] if "switched off" in line]
    assert warning.startswith("WARNING: agent 'Legacy IVR'")
    assert SILENT in warning


async def test_explain_says_the_call_reaches_a_switched_off_agent_instead_of_answered(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    await api.agents.publish(switched_off_agent(sandbox), 1, phone_numbers=[SILENT], direction="inbound")
    async with connect(make_server(), era) as client:
        explained = structured(await call(client, "explain_inbound_call", {"phone_number": SILENT}))

    assert explained["outcome"] == "reaches_inactive_agent"
    assert "switched off" in explained["answer"]
    assert "assign_agent_to_numbers" in explained["answer"]


async def test_the_audit_lists_numbers_answered_by_a_switched_off_agent_until_routing_decides(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    await api.agents.publish(switched_off_agent(sandbox), 1, phone_numbers=[SILENT], direction="inbound")
    arguments = {"code": "number_answered_by_inactive_agent"}
    async with connect(make_server(), era) as client:
        before = structured(await call(client, "audit_inventory", arguments))
        await api.inbound_routing.create(workflow_id="wf_router", fallback_agent_id=sandbox.seed.demo.agent_ids[0])
        after = structured(await call(client, "audit_inventory", arguments))

    (finding,) = before["findings"]
    assert (finding["subjects"], finding["severity"], finding["fix"]) == ([SILENT], "high", "assign_agent_to_numbers")
    assert "'Legacy IVR'" in finding["message"]
    assert after["findings"] == [], "an enabled routing workflow picks the agent, not the number's slot"


async def test_explain_says_when_the_routing_fallback_agent_is_switched_off(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    await api.inbound_routing.create(workflow_id="wf_router", fallback_agent_id=switched_off_agent(sandbox))
    async with connect(make_server(), "auto") as client:
        explained = structured(await call(client, "explain_inbound_call", {"phone_number": SILENT}))

    assert explained["outcome"] == "workflow_decides"
    assert "'Legacy IVR'" in explained["answer"]
    assert "answers, which is switched off" in explained["answer"]
