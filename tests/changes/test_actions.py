"""Each change a plan can make is one class, named by one action, run as one single-call tool, and kept in a
plan as JSON that reads back as the same change."""

from __future__ import annotations

from typing import get_args

import pytest

from mcp_anyreach.changes.actions import (
    CHANGES,
    Action,
    Change,
    CreateRouting,
    CreateTrunk,
    DeleteNumber,
    DeleteRouting,
    DeleteTrunk,
    Publish,
    RegisterNumber,
    SetShareable,
    Unassign,
    UpdateRouting,
    UpdateTrunk,
)
from mcp_anyreach.server.registry import SPECS

PASSWORD = {"env": "ANYREACH_SIP_CARRIER"}
EXAMPLES: list[Change] = [
    CreateTrunk("Carrier", {"inbound": {"allowed_addresses": ["203.0.113.7/32"], "auth_password": PASSWORD}}),
    UpdateTrunk("trk_1", {"outbound": {"address": "sip.example.com", "auth_password": PASSWORD}, "inbound": None}),
    DeleteTrunk("trk_1"),
    DeleteNumber("+12125550131"),
    RegisterNumber("+12125550131", outbound_shareable=True, trunk_name="Carrier"),
    RegisterNumber("+12125550131", outbound_shareable=False, trunk_id="trk_1"),
    SetShareable("+12125550131", outbound_shareable=True),
    Publish("agt_1", 2, ("+12125550131",), "both", restoring=True),
    Publish("agt_1", 2, ("+12125550131", "+12125550132"), "inbound"),
    Unassign("agt_1", 1, ("+12125550131",), "outbound"),
    CreateRouting({"enabled": True, "workflow_id": "wf_1"}),
    UpdateRouting({"fallback_agent_id": "agt_2"}),
    DeleteRouting(),
]


def test_every_action_a_plan_can_name_has_one_class_run_as_a_tool_the_server_publishes() -> None:
    tools = {spec.name for spec in SPECS}

    assert set(CHANGES) == set(get_args(Action))
    assert {type(change) for change in EXAMPLES} == set(CHANGES.values())
    for action, change in CHANGES.items():
        assert change.action == action
        assert change.tool in tools, f"{action} names {change.tool}, which is no tool"


@pytest.mark.parametrize("change", EXAMPLES, ids=repr)
def test_a_change_kept_as_its_arguments_reads_back_as_the_same_change_with_its_arguments_in_order(
    change: Change,
) -> None:
    stored = change.arguments()

    again = CHANGES[change.action].of(stored)

    assert again == change
    assert list(again.arguments().items()) == list(stored.items())


def test_two_changes_of_one_kind_are_the_same_change_only_when_every_field_is() -> None:
    assert DeleteNumber("+12125550131") == DeleteNumber("+12125550131")
    assert DeleteNumber("+12125550131") != DeleteNumber("+12125550132")
    shared, kept = (SetShareable("+12125550131", outbound_shareable=flag) for flag in (True, False))
    assert shared != kept
    assert DeleteTrunk("trk_1") != DeleteNumber("trk_1")


def test_a_trunk_change_names_the_variables_its_passwords_are_read_from_and_no_other_change_reads_any() -> None:
    readers = {type(change).__name__: change.password_variables() for change in EXAMPLES if change.password_variables()}

    assert readers == {"CreateTrunk": ["ANYREACH_SIP_CARRIER"], "UpdateTrunk": ["ANYREACH_SIP_CARRIER"]}


@pytest.mark.parametrize(
    ("shareable", "detail"), [(True, "on trunk 'PBX', outbound shareable"), (False, "on trunk 'PBX'")]
)
def test_a_registration_says_it_is_outbound_shareable_only_when_it_is(shareable: bool, detail: str) -> None:
    registration = RegisterNumber("+12125550131", outbound_shareable=shareable, trunk_id="trk_1")

    assert registration.describe("'PBX'") == f"register +12125550131 {detail}"
