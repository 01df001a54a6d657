"""Each change a plan can make is one class: what it plans (its typed arguments), how a person reads it
(`describe`, the step's detail), which single-call tool does the same (`tool`, which the audit log and the gate
name), how it runs (`run`, one API call) and what it means for an interrupted move (`forgets_move`).

The planner builds these and the executor runs them, both by type. A plan keeps each one as an `action` name
and its `arguments()` (plain JSON without secrets: a password is the name of the environment variable that
holds it), so that a shared store can hold plans, and plans stored before still load (`CHANGES[action].of`).

`base.py` holds what every change shares; `trunks.py`, `numbers.py`, `agents.py` and `routing.py` one class per
kind of call on that resource.
"""

from __future__ import annotations

from mcp_anyreach.changes.actions.agents import VERBS, Publish, Unassign
from mcp_anyreach.changes.actions.base import (
    SECRET_PREFIX,
    Action,
    Change,
    Config,
    Direction,
    Running,
    Side,
    organization_secrets,
    password_variable,
)
from mcp_anyreach.changes.actions.numbers import DeleteNumber, RegisterNumber, SetShareable
from mcp_anyreach.changes.actions.routing import CreateRouting, DeleteRouting, UpdateRouting
from mcp_anyreach.changes.actions.trunks import CreateTrunk, DeleteTrunk, UpdateTrunk

__all__ = [
    "CHANGES",
    "SECRET_PREFIX",
    "VERBS",
    "Action",
    "Change",
    "Config",
    "CreateRouting",
    "CreateTrunk",
    "DeleteNumber",
    "DeleteRouting",
    "DeleteTrunk",
    "Direction",
    "Publish",
    "RegisterNumber",
    "Running",
    "SetShareable",
    "Side",
    "Unassign",
    "UpdateRouting",
    "UpdateTrunk",
    "organization_secrets",
    "password_variable",
]

CHANGES: dict[Action, type[Change]] = {
    change.action: change
    for change in (
        CreateTrunk,
        UpdateTrunk,
        DeleteTrunk,
        DeleteNumber,
        RegisterNumber,
        SetShareable,
        Publish,
        Unassign,
        CreateRouting,
        UpdateRouting,
        DeleteRouting,
    )
}
