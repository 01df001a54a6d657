"""What a model or a person reads of a plan and of an apply: the tools' result models.

Kept apart from the engine so that the server declares its tools without importing the engine: a host
waits for start-up on every launch, and most sessions never plan a change set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from mcp_anyreach.changes.model import StepOutcome
from mcp_anyreach.domain.records import Result

if TYPE_CHECKING:
    from mcp_anyreach.changes.model import Plan


class StepView(Result):
    """A step, or (with `last`) steps n to last shown as one: the moves of several numbers between two trunks."""

    n: int
    last: int | None = Field(default=None, exclude_if=lambda value: value is None)
    action: str
    detail: str


class PlanView(Result):
    """What a model (or a person) reads of a plan."""

    plan_id: str | None = None
    summary: str
    impact: list[str]
    notes: list[str]
    steps: list[StepView]
    expires_in_seconds: int | None = None
    confirmation_token: str | None = None
    next: str

    @classmethod
    def of(cls, plan: Plan, *, ttl_seconds: int, apply_hint: str = "call apply_changes with this plan_id") -> PlanView:
        # Every step: a client that cannot be asked shows this plan to the user with the token that applies it.
        return cls(
            plan_id=plan.id if plan.steps else None,
            summary=plan.summary(),
            impact=plan.impact,
            notes=plan.notes,
            steps=_step_views(plan),
            expires_in_seconds=ttl_seconds if plan.steps else None,
            next=f"Nothing changed yet. To make these changes, {apply_hint}." if plan.steps else "Nothing to do.",
        )


def _step_views(plan: Plan) -> list[StepView]:
    from mcp_anyreach.changes.grouping import entries

    views: list[StepView] = []
    for entry in entries(plan.steps):
        if entry.shared:
            views.append(StepView(n=entry.first, last=entry.last, action="move_numbers", detail=entry.text()))
        else:
            views.extend(StepView(n=step.n, action=step.action, detail=step.detail) for step in entry.steps)
    return views


class ApplyReport(Result):
    plan_id: str
    complete: bool
    done: int
    failed: int
    not_started: int
    failure: StepOutcome | None = None
    steps: list[StepOutcome]
    steps_not_listed: int = 0
    next: str
    undo_id: str | None = None  # what ran is recorded under it, for plan_changes' undo operation
    undo: str | None = None  # how to undo it and how long the record lives, or why none was kept
