"""A workflow_id cannot be checked (no API lists workflows): every tool that relies on one says so."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp_types import CallToolResult

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ACCEPT, ServerFactory, answering, call, connect, questions

INVENTED = "wf_made_up_by_the_model"
UNVERIFIED = "could not be verified"
CHECKED_INLINE = {"steps": [{"when": "always", "output": {"agent_id": "agt_desk", "initial_context": "Hello"}}]}
UNCHECKED_INLINE = {"steps": [{"route_to": "agt_front_desk"}]}
ANSWERED = "+14155550101"  # managed, Support v2 on its inbound slot


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def refusal(result: CallToolResult) -> str:
    assert result.is_error
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def test_routing_to_an_invented_workflow_without_fallback_warns_first_and_says_unverified_when_done(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    arguments = {"workflow_id": INVENTED}
    async with connect(make_server(), era) as client:
        preview = structured(await call(client, "create_inbound_routing_config", arguments))
        token = preview["confirmation_token"]
        confirmed = {**arguments, "confirmation_token": token}
        done = structured(await call(client, "create_inbound_routing_config", confirmed))

    assert f"workflow {INVENTED} {UNVERIFIED}" in preview["message"]
    assert "WARNING" in preview["message"]
    assert "every inbound call is disconnected" in preview["message"]
    assert done["status"] == "done"
    assert UNVERIFIED in done["result"]["workflow_check"]
    assert await api.inbound_routing.get() is not None


async def test_the_human_asked_to_route_to_an_unverifiable_workflow_is_told_so_with_the_warning(
    make_server: ServerFactory, era: str
) -> None:
    asked = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=asked) as client:
        done = structured(await call(client, "create_inbound_routing_config", {"workflow_id": INVENTED}))

    (question,) = questions(asked)
    assert UNVERIFIED in question
    assert "WARNING" in question
    assert UNVERIFIED in done["result"]["workflow_check"]


async def test_a_fallback_agent_removes_the_warning_but_not_the_doubt(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    arguments = {"workflow_id": INVENTED, "fallback_agent_id": sandbox.seed.demo.agent_ids[1]}
    async with connect(make_server(), era) as client:
        preview = structured(await call(client, "create_inbound_routing_config", arguments))

    assert UNVERIFIED in preview["message"]
    assert "WARNING" not in preview["message"]


async def test_clearing_the_fallback_of_an_unverifiable_workflow_warns(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    await api.inbound_routing.create(workflow_id=INVENTED, fallback_agent_id=sandbox.seed.demo.agent_ids[1])
    async with connect(make_server(), era) as client:
        preview = structured(await call(client, "update_inbound_routing_config", {"fallback_agent_id": "none"}))

    assert "WARNING" in preview["message"]
    assert UNVERIFIED in preview["message"]


async def test_an_inline_workflow_with_an_undocumented_output_field_is_refused_and_nothing_is_created(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    definition = {"steps": [{"output": {"agent": "Support"}}]}
    async with connect(make_server(), era, elicitation_callback=answering("accept", ACCEPT)) as client:
        refused = refusal(await call(client, "create_inbound_routing_config", {"workflow_definition": definition}))

    assert "'agent' is not documented" in refused
    assert "agent_id" in refused
    assert await api.inbound_routing.get() is None


@pytest.mark.parametrize(
    ("definition", "check"),
    [
        (CHECKED_INLINE, "its output fields match the documented ones"),
        (UNCHECKED_INLINE, "shape is not documented, so it was not checked"),
    ],
)
async def test_an_inline_workflow_is_checked_where_the_documentation_allows_and_flagged_otherwise(
    make_server: ServerFactory, definition: dict[str, Any], check: str
) -> None:
    async with connect(make_server(), "auto") as client:
        preview = structured(await call(client, "create_inbound_routing_config", {"workflow_definition": definition}))

    assert check in preview["message"]
    assert json.dumps(definition, separators=(",", ":")) in preview["message"], "shown whole"
    assert ("WARNING" in preview["message"]) is (definition is UNCHECKED_INLINE)


async def test_explain_says_the_workflow_could_not_be_verified_and_that_a_wrong_one_disconnects_the_call(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    await api.inbound_routing.create(workflow_id=INVENTED)
    async with connect(make_server(), era) as client:
        explained = structured(await call(client, "explain_inbound_call", {"phone_number": ANSWERED}))

    assert explained["outcome"] == "workflow_decides"
    assert UNVERIFIED in explained["answer"]
    assert "if it is wrong, it fails and the call is disconnected" in explained["answer"]


async def test_the_audit_rates_a_missing_fallback_high_when_the_workflow_cannot_be_verified(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    await api.inbound_routing.create(workflow_id=INVENTED)
    async with connect(make_server(), era) as client:
        report = structured(await call(client, "audit_inventory", {"min_severity": "high"}))

    (finding,) = [f for f in report["findings"] if f["code"] == "routing_fallback_unset"]
    assert finding["severity"] == "high"
    assert UNVERIFIED in finding["message"]


async def test_a_change_set_routing_to_an_unverifiable_workflow_without_fallback_warns_in_its_impact(
    make_server: ServerFactory,
) -> None:
    async with connect(make_server(), "auto") as client:
        plan = structured(await call(client, "plan_changes", {"desired_state": {"routing": {"workflow_id": INVENTED}}}))

    assert any(line.startswith("WARNING") and UNVERIFIED in line for line in plan["impact"])


async def test_a_desired_state_whose_inline_workflow_has_an_undocumented_output_field_is_refused(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    routing = {"workflow_definition": {"output": {"agent_id": "agt_desk", "transfer_to": "+14155550101"}}}
    async with connect(make_server(), "auto") as client:
        refused = refusal(await call(client, "plan_changes", {"desired_state": {"routing": routing}}))

    assert "'transfer_to' is not documented" in refused
    assert await api.inbound_routing.get() is None
