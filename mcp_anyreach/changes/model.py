"""What a change set is made of: targets (what each thing should become), steps (API calls), plans.

Plans and steps are plain JSON (pydantic models of JSON values), so a shared store can hold them between
`plan_changes` and `apply_changes`. A step holds its change (`actions/`) as the action's name and arguments,
which never hold a secret: a password is the name of the environment variable that holds it, read when the
step runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from mcp_anyreach.changes.actions import CHANGES, Action, Change, Side
from mcp_anyreach.changes.grouping import entries, step_groups
from mcp_anyreach.domain.text import counted

Slot = Side
SLOTS: tuple[Slot, ...] = ("inbound", "outbound")


class Keep:
    """A field a target leaves as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = Keep()


@dataclass(frozen=True, slots=True)
class AgentSlot:
    """What a number's inbound or outbound slot should hold: one version of one agent."""

    agent_id: str
    version: int
    version_id: str
    label: str  # `'Support' v2`, for people

    def json(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id, "version": self.version, "version_id": self.version_id, "label": self.label}

    @classmethod
    def of(cls, data: dict[str, Any]) -> AgentSlot:
        return cls(str(data["agent_id"]), int(data["version"]), str(data["version_id"]), str(data["label"]))


SlotTarget = AgentSlot | None | Keep


@dataclass(frozen=True, slots=True)
class NumberTarget:
    """What one number should become. `trunk` is a trunk id, or `name:<name>` for a trunk the plan creates."""

    phone_number: str
    present: bool = True
    trunk: str | Keep = KEEP
    outbound_shareable: bool | Keep = KEEP
    inbound: SlotTarget = KEEP
    outbound: SlotTarget = KEEP

    def slot(self, side: Slot) -> SlotTarget:
        return self.inbound if side == "inbound" else self.outbound

    def merged(self, later: NumberTarget) -> NumberTarget:
        """This target with what `later` sets (a field `later` keeps stays as it is here)."""
        if not later.present or not self.present:
            return later
        changes = {
            name: getattr(later, name)
            for name in ("trunk", "outbound_shareable", "inbound", "outbound")
            if not isinstance(getattr(later, name), Keep)
        }
        return replace(self, **changes)


class Step(BaseModel):
    """One API call of a plan: its change (`change`, typed), stored as `action` and `args`, with the line a person
    reads (`detail`) and the resources it writes (`targets`)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    n: int
    action: Action
    subject: str
    detail: str
    args: dict[str, Any]
    targets: list[str] = Field(default_factory=list[str])
    _change: Change = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._change = CHANGES[self.action].of(self.args)

    @classmethod
    def of(cls, change: Change, detail: str, *, subject: str | None = None) -> Step:
        """The step that makes `change` (numbered when the plan is put in order)."""
        return cls(
            n=0,
            action=change.action,
            subject=change.subject() if subject is None else subject,
            detail=detail,
            args=change.arguments(),
            targets=change.targets(),
        )

    @property
    def change(self) -> Change:
        return self._change

    @property
    def tool(self) -> str:
        """The single-call tool that does the same: the audit log names the step by it."""
        return self._change.tool

    def audit_arguments(self, plan_id: str) -> dict[str, Any]:
        """What the audit log records of this step: its arguments, its plan and its place in it."""
        return {**self.args, "plan_id": plan_id, "step": self.n}


class MoveIntent(BaseModel):
    """Where a moved number goes and what it carries, kept until the move is finished, so that planning
    again after an interruption (deleted, not yet registered) can still restore it."""

    model_config = ConfigDict(defer_build=True)

    phone_number: str
    from_trunk_id: str
    trunk_id: str
    outbound_shareable: bool
    inbound: dict[str, Any] | None = None
    outbound: dict[str, Any] | None = None

    def target(self) -> NumberTarget:
        return NumberTarget(
            self.phone_number,
            trunk=self.trunk_id,
            outbound_shareable=self.outbound_shareable,
            inbound=AgentSlot.of(self.inbound) if self.inbound else None,
            outbound=AgentSlot.of(self.outbound) if self.outbound else None,
        )


class UndoBasis(BaseModel):
    """What a change replaces, seen when it is planned (undo.py): kept with the plan, so that once applied its undo
    record says what the targets were. No password: the API never returns one."""

    model_config = ConfigDict(defer_build=True)

    document: dict[str, Any] = Field(description="The targets as they were: a desired-state document fragment")
    before: dict[str, str | None] = Field(description="target URI -> digest before the change (None: absent)")
    trunks: dict[str, str] = Field(default_factory=dict[str, str], description="trunk id -> its name before")
    created_numbers: list[str] = Field(default_factory=list[str])
    created_trunks: list[str] = Field(default_factory=list[str], description="names of trunks the change creates")
    lost: list[str] = Field(default_factory=list[str], description="what no undo can bring back, as sentences")


class Plan(BaseModel):
    """The ordered steps, what they change for callers, and what the account looked like when planned."""

    model_config = ConfigDict(defer_build=True)

    id: str
    steps: list[Step]
    impact: list[str]
    notes: list[str] = Field(default_factory=list[str])
    basis: dict[str, str | None] = Field(description="resource URI -> digest of what planning saw (None: absent)")
    moves: dict[str, MoveIntent] = Field(default_factory=dict[str, MoveIntent])
    # What the plan replaces, for its undo record; left out when absent, so plans stored before read back as written.
    undo: UndoBasis | None = Field(default=None, exclude_if=lambda value: value is None)

    @property
    def targets(self) -> list[str]:
        return list(dict.fromkeys(uri for step in self.steps for uri in step.targets))

    def summary(self) -> str:
        """The kinds of change counted: `delete 98 numbers`, `move 5 numbers`, ... (`lines` names each one)."""
        if not self.steps:
            return "Nothing to do: the account already matches."
        counts: dict[tuple[str, str], int] = {}
        for group in step_groups(self.steps):
            phrase = MOVE_PHRASE if len(group) > 1 else group[0].change.phrase
            counts[phrase] = counts.get(phrase, 0) + 1
        parts = [f"{verb} {counted(count, noun)}" for (verb, noun), count in counts.items()]
        return f"{counted(len(self.steps), 'step')}: " + ", ".join(parts) + "."

    def lines(self) -> list[str]:
        """Every step as a person reads it, whole and in order: one line each, except that a number's move
        (its delete, its register and the agents it gets back) is one line, and consecutive moves between
        the same two trunks are one line naming each number with its sharing and agents."""
        return [entry.line() for entry in entries(self.steps)]


MOVE_PHRASE = ("move", "number")


StepStatus = Literal["done", "failed", "not_started"]


class StepOutcome(BaseModel):
    model_config = ConfigDict(defer_build=True)

    n: int
    action: Action
    subject: str
    status: StepStatus
    cause: str | None = None
