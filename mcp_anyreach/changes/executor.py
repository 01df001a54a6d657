"""Runs a plan's steps in order, stops at the first failure, and says per step: done, failed, not started.

Each step's change makes its own API call (`actions/`); the executor only orders, records and reports.

Each step goes through `run_step(plan_id, step, call)`, which the caller supplies: the MCP tools pass the gate's
`act` (audit line before and after, recorded as a write), the command line an audit-log writer. The
executor itself knows nothing of MCP.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from mcp_anyreach.api import AnyreachClient, AnyreachError
from mcp_anyreach.changes.actions import SECRET_PREFIX, Running
from mcp_anyreach.changes.model import Plan, Step, StepOutcome
from mcp_anyreach.changes.results import ApplyReport
from mcp_anyreach.changes.store import PlanStore, PlanStoreUnavailable
from mcp_anyreach.domain.api_errors import api_errors, error_message
from mcp_anyreach.domain.refusal import Refusal

logger = logging.getLogger("mcp_anyreach.server")
RunStep = Callable[[str, Step, Callable[[], Awaitable[object]]], Awaitable[object]]
SHOWN = 20


async def run_plan(
    client: AnyreachClient,
    plan: Plan,
    run_step: RunStep,
    *,
    env: Mapping[str, str],
    store: PlanStore | None = None,
) -> ApplyReport:
    """Run every step until one fails. A move is recorded as unfinished just before its first step, so that
    planning again can finish it; a number this plan deletes on purpose forgets any earlier unfinished move."""
    if missing := missing_secrets(plan, env):
        raise Refusal(
            f"The environment variables {', '.join(missing)}, which the plan reads trunk passwords from, are not "
            f"set where it is applied (only {SECRET_PREFIX}... variables are read); nothing was changed. Set them "
            "there and plan again."
        )
    running = Running(env)
    started: set[str] = set()
    outcomes: list[StepOutcome] = []
    failure: StepOutcome | None = None
    for step in plan.steps:
        if failure is not None:
            outcomes.append(StepOutcome(n=step.n, action=step.action, subject=step.subject, status="not_started"))
            continue
        try:
            if store is not None:
                await _before(store, plan, step, started)
            await run_step(plan.id, step, _call(client, step, running))
        except Exception as exc:
            failure = StepOutcome(
                n=step.n, action=step.action, subject=step.subject, status="failed", cause=_cause(exc)
            )
            outcomes.append(failure)
            continue
        outcomes.append(StepOutcome(n=step.n, action=step.action, subject=step.subject, status="done"))
    if store is not None and (finished := _finished(started, outcomes)):
        try:
            await store.forget_moves(finished)
        except PlanStoreUnavailable as exc:  # planning again forgets finished moves
            logger.warning("finished moves are still remembered as unfinished: %s", exc)
    return _report(plan, outcomes, failure)


async def _before(store: PlanStore, plan: Plan, step: Step, started: set[str]) -> None:
    # Recorded per number and only now: a move recorded before it starts would outlive a later deliberate
    # delete of a number it never touched, and bring that number back with its old agents.
    phone = step.subject
    if phone in plan.moves:
        if phone not in started:
            await store.remember_moves({phone: plan.moves[phone]})
            started.add(phone)
    elif (deleted := step.change.forgets_move()) is not None:
        await store.forget_moves([deleted])


def _finished(started: set[str], outcomes: list[StepOutcome]) -> list[str]:
    """The moved numbers whose every step is done."""
    unfinished = {outcome.subject for outcome in outcomes if outcome.status != "done"}
    return sorted(started - unfinished)


def _report(plan: Plan, outcomes: list[StepOutcome], failure: StepOutcome | None) -> ApplyReport:
    done = sum(1 for outcome in outcomes if outcome.status == "done")
    waiting = sum(1 for outcome in outcomes if outcome.status == "not_started")
    if failure is None:
        listed: list[StepOutcome] = []  # every step is done: the count says it
        advice = f"Every step is done ({done})."
    else:
        # The failure and its neighbours matter; a long run of done steps does not.
        index = outcomes.index(failure)
        listed = outcomes[max(0, index - 3) : index + SHOWN - 3]
        advice = (
            f"Stopped at step {failure.n}; steps after it were not started. Fix the cause if it is yours, then call "
            "plan_changes again with the same request: it plans only what is still missing (moves interrupted "
            "half-way are finished, their agents restored)."
        )
    return ApplyReport(
        plan_id=plan.id,
        complete=failure is None,
        done=done,
        failed=0 if failure is None else 1,
        not_started=waiting,
        failure=failure,
        steps=listed,
        steps_not_listed=len(outcomes) - len(listed),
        next=advice,
    )


def _cause(exc: Exception) -> str:
    if isinstance(exc, AnyreachError):
        return error_message(exc, retry_safe=False)
    if isinstance(exc, Refusal):
        return str(exc)
    if isinstance(exc, PlanStoreUnavailable):
        return f"the plans the replicas share could not be reached ({exc}), so this step was not started."
    message = str(exc)
    # ToolError (from the gate's act) carries its own sentence; anything else is named, never dumped.
    return message if type(exc).__name__ == "ToolError" and message else f"{type(exc).__name__}"


def _call(client: AnyreachClient, step: Step, running: Running) -> Callable[[], Awaitable[object]]:
    change = step.change

    async def call() -> object:
        with api_errors(retry_safe=change.retry_safe):
            return await change.run(client, running)

    return call


def missing_secrets(plan: Plan, env: Mapping[str, str]) -> list[str]:
    """The password variables the plan reads that `env` lacks (or that a document may not name at all)."""
    names = {name for step in plan.steps for name in step.change.password_variables()}
    return sorted(name for name in names if not name.startswith(SECRET_PREFIX) or name not in env)
