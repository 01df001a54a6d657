"""explain_inbound_call against the real sandbox: the documented decision order, one call per question."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient, InboundConfig
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ServerFactory, connect

ANSWERED = "+14155550101"  # managed, Support v2 on its inbound slot
SILENT = "+14155550102"  # managed, nobody on its slots
BYOC = "+12125550131"  # BYOC trunk, nobody on its slots
SHARED_BYOC = "+12125550132"  # BYOC trunk, After-hours on both slots


async def explain(make_server: ServerFactory, era: str = "auto", **arguments: Any) -> dict[str, Any]:
    with anyio.fail_after(10):
        async with connect(make_server(**arguments.pop("settings", {})), era) as client:
            result = await client.call_tool("explain_inbound_call", arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def test_without_routing_the_numbers_own_agent_answers_named_with_its_version(
    make_server: ServerFactory, era: str
) -> None:
    explained = await explain(make_server, era, phone_number=ANSWERED)

    assert explained["outcome"] == "answered"
    assert "'Support' v2" in explained["agent"]
    assert [step["check"] for step in explained["steps"]] == ["directory", "trunk", "routing", "number_agent"]
    assert explained["steps"][0]["source"] == f"anyreach://phone-numbers/{ANSWERED}"


async def test_a_number_nobody_answers_is_dropped_and_the_explanation_says_why(
    make_server: ServerFactory, era: str
) -> None:
    explained = await explain(make_server, era, phone_number=SILENT)

    assert explained["outcome"] == "dropped"
    assert "no agent is on the number's inbound slot" in explained["answer"]


async def test_a_number_outside_the_directory_receives_no_calls(make_server: ServerFactory) -> None:
    explained = await explain(make_server, phone_number="+14155550188")

    assert explained["outcome"] == "not_in_directory"
    assert [step["check"] for step in explained["steps"]] == ["directory"]


async def test_a_byoc_trunk_refuses_a_caller_missing_from_its_allowed_numbers(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    trunk = await api.trunks.get(sandbox.seed.demo.byoc_trunk_id)
    assert trunk.inbound_config is not None
    inbound = InboundConfig.model_validate(
        {
            **trunk.inbound_config.model_dump(exclude={"auth_password", "auth_password_set"}),
            "allowed_numbers": ["+14155550123"],
        }
    )
    inbound.auth_password = SecretStr("kept-by-username")
    await api.trunks.update(trunk.id, inbound_config=inbound, passwords={"outbound": SecretStr("kept-outbound")})

    refused = await explain(make_server, phone_number=BYOC, caller_number="+16175550100")
    admitted = await explain(make_server, phone_number=BYOC, caller_number="+14155550123")
    unknown_caller = await explain(make_server, phone_number=BYOC)

    assert refused["outcome"] == "not_admitted"
    assert "+16175550100 is not in its allowed_numbers" in refused["answer"]
    assert admitted["outcome"] == "dropped"
    assert "cannot be judged from a phone number" in admitted["steps"][1]["finding"]
    assert "only the callers +14155550123" in unknown_caller["steps"][1]["finding"]


async def test_an_enabled_routing_config_lets_its_workflow_decide_and_names_the_fallback_agent(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    await api.inbound_routing.create(
        enabled=True, workflow_id="wf_router", workflow_version=3, fallback_agent_id=sandbox.seed.demo.agent_ids[2]
    )

    explained = await explain(make_server, era, phone_number=SILENT)

    assert explained["outcome"] == "workflow_decides"
    assert explained["answer"].startswith("Workflow wf_router version 3 picks the agent")
    assert "'Sales'" in explained["fallback_agent"]
    assert [step["check"] for step in explained["steps"]] == ["directory", "trunk", "routing", "workflow", "fallback"]


async def test_without_a_fallback_agent_the_explanation_warns_that_a_failing_workflow_drops_the_call(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    await api.inbound_routing.create(enabled=True, workflow_id="wf_router")

    explained = await explain(make_server, phone_number=ANSWERED)

    assert "the call is disconnected (no fallback_agent_id)" in explained["answer"]
    assert explained.get("fallback_agent") is None


@pytest.mark.parametrize("routing", ["none", "disabled", "enabled"])
async def test_the_audit_and_the_explanation_agree_on_which_numbers_nobody_answers(
    make_server: ServerFactory, api: AnyreachClient, routing: str
) -> None:
    if routing != "none":
        await api.inbound_routing.create(enabled=routing == "enabled", workflow_id="wf_router")
    numbers = [number.phone_number async for number in api.phone_numbers.iter()]

    async with connect(make_server(), "auto") as client:
        audit = (await client.call_tool("audit_inventory", {"min_severity": "high"})).structured_content
        explained = {
            number: (await client.call_tool("explain_inbound_call", {"phone_number": number})).structured_content
            for number in numbers
        }

    assert audit is not None
    unanswered = {s for f in audit["findings"] if f["code"] == "number_without_inbound_agent" for s in f["subjects"]}
    dropped = {number for number, found in explained.items() if found and found["outcome"] == "dropped"}
    assert unanswered == dropped
    assert (routing == "enabled") is (dropped == set())


async def test_a_read_only_server_explains_calls(make_server: ServerFactory) -> None:
    explained = await explain(make_server, phone_number=ANSWERED, settings={"read_only": True})

    assert explained["outcome"] == "answered"


async def _admit_only(api: AnyreachClient, sandbox: Sandbox, caller: str) -> None:
    trunk = await api.trunks.get(sandbox.seed.demo.byoc_trunk_id)
    assert trunk.inbound_config is not None
    inbound = InboundConfig.model_validate(
        {**trunk.inbound_config.model_dump(exclude={"auth_password", "auth_password_set"}), "allowed_numbers": [caller]}
    )
    inbound.auth_password = SecretStr("kept-by-username")
    await api.trunks.update(trunk.id, inbound_config=inbound, passwords={"outbound": SecretStr("kept-outbound")})


async def test_without_a_caller_a_trunk_that_admits_only_some_callers_is_not_called_answered(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    await _admit_only(api, sandbox, "+14155550123")

    any_caller = await explain(make_server, era, phone_number=SHARED_BYOC)
    admitted = await explain(make_server, era, phone_number=SHARED_BYOC, caller_number="+14155550123")

    assert any_caller["outcome"] == "depends_on_caller"
    assert "Only callers in the trunk's allowed_numbers (+14155550123) get through" in any_caller["answer"]
    assert "Any other caller is refused" in any_caller["answer"]
    assert admitted["outcome"] == "answered"


async def test_a_refused_caller_is_told_which_tool_admits_it(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    await _admit_only(api, sandbox, "+14155550123")

    refused = await explain(make_server, phone_number=SHARED_BYOC, caller_number="+16175550100")

    assert refused["outcome"] == "not_admitted"
    assert refused["fix"].startswith("update_trunk with inbound.allowed_numbers including +16175550100")


async def test_a_dropped_call_names_the_tool_that_puts_an_agent_on_the_number(
    make_server: ServerFactory, era: str
) -> None:
    explained = await explain(make_server, era, phone_number=SILENT)

    assert explained["outcome"] == "dropped"
    assert explained["fix"].startswith(f"assign_agent_to_numbers with phone_numbers [{SILENT}]")


async def test_a_number_outside_the_directory_names_the_tools_that_add_one(make_server: ServerFactory) -> None:
    explained = await explain(make_server, phone_number="+14155550188")

    assert "register_phone_number" in explained["fix"]
    assert "purchase_phone_number" in explained["fix"]


async def test_a_workflow_says_the_answer_depends_on_caller_and_time_and_names_the_fallback_fix(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    await api.inbound_routing.create(enabled=True, workflow_id="wf_router")

    explained = await explain(make_server, phone_number=ANSWERED)

    assert "may depend on the caller and the time" in explained["answer"]
    assert explained["fix"].startswith("update_inbound_routing_config with fallback_agent_id")
