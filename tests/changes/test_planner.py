"""The planner on its own: an account built in memory, targets in, the steps a person approves out. No server,
no API: planning only compares what is with what should be."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_anyreach.api import InboundConfig, InboundRoutingConfig, OutboundConfig, PhoneNumber, Trunk
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.api.models import Agent, AgentVersion
from mcp_anyreach.changes.actions import DeleteNumber, Publish, RegisterNumber, UpdateRouting, UpdateTrunk
from mcp_anyreach.changes.desired import TrunkTarget
from mcp_anyreach.changes.model import Plan
from mcp_anyreach.changes.operations import compile_operations, parse_operations
from mcp_anyreach.changes.planner import make_plan
from mcp_anyreach.changes.snapshot import Snapshot
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.uris import ROUTING_URI, number_uri, trunk_uri

PBX, CARRIER, MANAGED = "trk_pbx", "trk_carrier", "trk_managed"
SUPPORT, SALES = "agt_support", "agt_sales"


def account(*numbers: PhoneNumber, routing: InboundRoutingConfig | None = None) -> Snapshot:
    """Three trunks (two BYOC, one managed) and two agents: Support (v1, v2 published) and Sales (v1)."""
    trunks = [
        Trunk(
            id=PBX,
            name="PBX",
            inbound_config=InboundConfig(allowed_addresses=["203.0.113.10/32"]),
            outbound_config=OutboundConfig(address="pbx.example.com", auth_username="pbx", auth_password_set=True),
        ),
        Trunk(id=CARRIER, name="Carrier"),
        Trunk(id=MANAGED, name="Anyreach managed numbers", managed_account_id="ma_1"),
    ]
    agents = [Agent(id=SUPPORT, name="Support"), Agent(id=SALES, name="Sales")]
    versions = {
        SUPPORT: [
            AgentVersion(id="agv_support_1", agent_id=SUPPORT, version=1, published=True),
            AgentVersion(id="agv_support_2", agent_id=SUPPORT, version=2, published=True),
        ],
        SALES: [AgentVersion(id="agv_sales_1", agent_id=SALES, version=1, published=True)],
    }
    return Snapshot(
        numbers={number.phone_number: number for number in numbers},
        trunks={trunk.id: trunk for trunk in trunks},
        routing=routing,
        directory=AgentDirectory(agents, versions),
    )


def number(phone: str, trunk: str = PBX, inbound: str | None = None, *, shareable: bool = False) -> PhoneNumber:
    return PhoneNumber(
        phone_number=phone, trunk_id=trunk, inbound_agent_version_id=inbound, outbound_shareable=shareable
    )


def planned(snapshot: Snapshot, *operations: dict[str, Any]) -> Plan:
    targets, notes = compile_operations(parse_operations(operations), snapshot, {})
    return make_plan(snapshot, targets, plan_id="pln_test", notes=notes)


def details(plan: Plan) -> list[tuple[int, str, str]]:
    return [(step.n, step.action, step.detail) for step in plan.steps]


def test_moving_a_number_deletes_it_registers_it_on_the_new_trunk_and_gives_its_agent_back() -> None:
    snapshot = account(number("+12125550131", inbound="agv_support_2", shareable=True))

    plan = planned(snapshot, {"op": "move_numbers", "phone_numbers": ["+12125550131"], "to_trunk_id": CARRIER})

    assert details(plan) == [
        (1, "delete_number", "delete +12125550131 from trunk 'PBX' (to move it)"),
        (2, "register_number", "register +12125550131 on trunk 'Carrier', outbound shareable"),
        (3, "publish", "'Support' v2 answers +12125550131"),
    ]
    delete, register, publish = (step.change for step in plan.steps)
    assert delete == DeleteNumber("+12125550131")
    assert register == RegisterNumber("+12125550131", outbound_shareable=True, trunk_id=CARRIER)
    assert publish == Publish(SUPPORT, 2, ("+12125550131",), "inbound", restoring=True)
    assert [step.tool for step in plan.steps] == [
        "delete_phone_number",
        "register_phone_number",
        "assign_agent_to_numbers",
    ]
    assert plan.lines() == [
        "1-3. move +12125550131: delete +12125550131 from trunk 'PBX' (to move it); register +12125550131 on "
        "trunk 'Carrier', outbound shareable; 'Support' v2 answers +12125550131"
    ]
    assert plan.summary() == "3 steps: move 1 number."
    intent = plan.moves["+12125550131"]
    assert (intent.from_trunk_id, intent.trunk_id, intent.outbound_shareable) == (PBX, CARRIER, True)
    assert intent.inbound is not None
    assert intent.inbound["version_id"] == "agv_support_2"
    assert set(plan.basis) == {number_uri("+12125550131"), trunk_uri(CARRIER)}


def test_deleting_unused_numbers_keeps_numbers_with_an_agent_or_shared_for_outbound_calls() -> None:
    snapshot = account(
        number("+12125550131"),
        number("+12125550132", inbound="agv_sales_1"),
        number("+12125550133", shareable=True),
        number("+12125550134", trunk=MANAGED),
    )

    plan = planned(snapshot, {"op": "delete_numbers", "unused": True})

    assert details(plan) == [
        (1, "delete_number", "delete +12125550131"),
        (2, "delete_number", "delete +12125550134 (bought through Anyreach: released)"),
    ]
    assert plan.notes == ["Kept, shareable for outbound calls by any agent: +12125550133."]
    assert plan.summary() == "2 steps: delete 2 numbers."
    assert "1 purchased number is released (+12125550134); their managed trunks stay (the API cannot delete them)." in (
        plan.impact
    )


def test_assigning_an_agent_to_several_numbers_is_one_step_naming_each_number() -> None:
    snapshot = account(number("+12125550131"), number("+12125550132", inbound="agv_support_1"))

    both = ["+12125550131", "+12125550132"]

    plan = planned(snapshot, {"op": "assign_agent", "agent": "Sales", "phone_numbers": both})

    assert details(plan) == [(1, "publish", "'Sales' v1 on the inbound slot of +12125550131, +12125550132")]
    (step,) = plan.steps
    assert step.subject == "2 numbers"
    assert step.args == {
        "agent_id": SALES,
        "version": 1,
        "direction": "inbound",
        "phone_numbers": ["+12125550131", "+12125550132"],
    }
    assert step.targets == [number_uri("+12125550131"), number_uri("+12125550132")]
    assert plan.impact == ["1 number gets another inbound agent: +12125550132."]


def test_a_routing_change_sends_only_the_fields_that_change_and_says_what_every_call_does_after() -> None:
    now = InboundRoutingConfig(id="rt_1", workflow_id="wf_router", fallback_agent_id=SUPPORT)
    snapshot = account(number("+12125550131", inbound="agv_support_2"), routing=now)

    plan = make_plan(
        snapshot, {}, routing={"enabled": True, "workflow_id": "wf_router", "fallback_agent_id": SALES}, plan_id="p"
    )

    (step,) = plan.steps
    assert step.change == UpdateRouting({"fallback_agent_id": SALES})
    assert (step.action, step.subject, step.tool) == ("update_routing", "routing", "update_inbound_routing_config")
    assert step.detail == (
        "change inbound routing; after: every inbound call runs workflow wf_router (latest version) to choose the "
        f"agent; if it fails, agent {SALES} answers; workflow wf_router could not be verified (no Anyreach API "
        "lists workflows)"
    )
    assert step.targets == [ROUTING_URI]
    assert plan.summary() == "1 step: update 1 routing config."


def test_a_trunk_update_lays_the_document_over_the_config_and_sends_the_password_it_needs_again() -> None:
    snapshot = account(number("+12125550131"), number("+12125550132"))
    outbound = {"transport": "TLS", "auth_password": {"env": "ANYREACH_SIP_PBX"}}

    plan = make_plan(snapshot, {}, [TrunkTarget(name="PBX", trunk_id=PBX, configs={"outbound": outbound})], plan_id="p")

    (step,) = plan.steps
    assert step.change == UpdateTrunk(
        PBX,
        {
            "outbound": {
                "address": "pbx.example.com",
                "auth_username": "pbx",
                "transport": "TLS",
                "media_encryption": "NONE",
                "headers": {},
                "auth_password": {"env": "ANYREACH_SIP_PBX"},
            }
        },
    )
    assert step.detail == (
        "update BYOC trunk 'PBX': outbound: transport UDP -> TLS, password sent again, from $ANYREACH_SIP_PBX"
    )
    assert (step.subject, step.tool, step.targets) == ("PBX", "update_trunk", [trunk_uri(PBX)])
    assert step.change.password_variables() == ["ANYREACH_SIP_PBX"]
    assert plan.impact == ["Trunk 'PBX' changes; the calls of its 2 numbers follow at once."]


def test_unassigning_an_agent_takes_it_off_the_slot_named_and_leaves_the_other() -> None:
    snapshot = account(number("+12125550131", inbound="agv_support_2"), number("+12125550132"))

    plan = planned(
        snapshot, {"op": "unassign_agent", "phone_numbers": ["+12125550131", "+12125550132"], "direction": "inbound"}
    )

    assert [(step.action, step.subject) for step in plan.steps] == [("unassign", "+12125550131")]


def test_registering_numbers_puts_a_new_number_on_the_byoc_trunk_named_and_refuses_one_already_there() -> None:
    snapshot = account(number("+12125550131"))
    register = {"op": "register_numbers", "trunk_id": CARRIER}

    plan = planned(snapshot, {**register, "phone_numbers": ["+12125550199"]})

    assert details(plan) == [(1, "register_number", "register +12125550199 on trunk 'Carrier'")]
    with pytest.raises(Refusal, match=r"\+12125550131 is already in the directory on trunk trk_pbx; move it"):
        planned(snapshot, {**register, "phone_numbers": ["+12125550131"]})
