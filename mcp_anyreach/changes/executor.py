"""Runs a plan's steps in order, stops at the first failure, and says per step: done, failed, not started.

Each step's change makes its own API call (`actions/`); the executor only orders, records and reports.

A cancelled run (the client cancels the call, or its connection closes) stops between steps, never inside one:
each step runs shielded from cancellation, and so does a number's whole move (its delete, its register and the
agents it gets back), because the preview promises that a moved number is out of the directory only a moment.
What ran is reported to `Watch.cancelled` before the cancellation goes on; planning again plans the rest.

Each step goes through `run_step(plan_id, step, call)`, which the caller supplies: the MCP tools pass the gate's
`act` (audit line before and after, recorded as a write), the command line an audit-log writer. The
executor itself knows nothing of MCP.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import anyio

from mcp_anyreach.api import AnyreachClient, AnyreachError
from mcp_anyreach.changes.actions import SECRET_PREFIX, Running
from mcp_anyreach.changes.grouping import step_groups
from mcp_anyreach.changes.model import Plan, Step, StepOutcome
from mcp_anyreach.changes.results import ApplyReport
from mcp_anyreach.changes.store import PlanStore, PlanStoreUnavailable
from mcp_anyreach.domain.api_errors import api_errors, error_message
from mcp_anyreach.domain.refusal import Refusal

logger = logging.getLogger("mcp_anyreach.server")
PROGRESS_WAIT_SECONDS = 5  # a progress notification no client reads must not hold a shielded step
RunStep = Callable[[str, Step, Callable[[], Awaitable[object]]], Awaitable[object]]
Progress = Callable[[Step, int, int], Awaitable[None]]
"""`progress(step, done, total)` after each step that is done."""
Cancelled = Callable[[ApplyReport], Awaitable[None]]
"""Told what ran when the run is cancelled, shielded, before the cancellation goes on."""
SHOWN = 20


@dataclass(frozen=True, slots=True)
class Watch:
    """Who follows a run: progress after each step, and what ran when it is cancelled."""

    progress: Progress | None = None
    cancelled: Cancelled | None = None


async def run_plan(
    client: AnyreachClient,
    plan: Plan,
    run_step: RunStep,
    *,
    env: Mapping[str, str],
    store: PlanStore | None = None,
    watch: Watch | None = None,
    secrets: str = SECRET_PREFIX,
) -> ApplyReport:
    """Run every step until one fails or the run is cancelled. A move is recorded as unfinished just before its
    first step, so that planning again can finish it; a number this plan deletes on purpose forgets any earlier
    unfinished move. Only variables named `secrets`... are read (organization_secrets: one of several's)."""
    if missing := missing_secrets(plan, env, secrets):
        raise Refusal(
            f"The environment variables {', '.join(missing)}, which the plan reads trunk passwords from, are not "
            f"set where it is applied (only {secrets}... variables are read"
            f"{'' if secrets == SECRET_PREFIX else ' in this organization'}); nothing was changed. Set them "
            "there and plan again."
        )
    running = Running(env)
    watch = watch or Watch()
    started: set[str] = set()
    outcomes: list[StepOutcome] = []
    try:
        for unit in step_groups(plan.steps):
            await anyio.lowlevel.checkpoint_if_cancelled()
            with anyio.CancelScope(shield=True):
                for step in unit:
                    outcomes.append(outcome := await _run_step(client, plan, step, run_step, running, store, started))
                    if outcome.status == "failed":
                        break
                    await _progress(watch, step, len(outcomes), len(plan.steps))
            if outcomes[-1].status == "failed":
                break
        await anyio.lowlevel.checkpoint_if_cancelled()
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            report = await _finish(plan, outcomes, store, started)
            if watch.cancelled is not None:
                await watch.cancelled(report)
        raise
    return await _finish(plan, outcomes, store, started)


async def _run_step(
    client: AnyreachClient,
    plan: Plan,
    step: Step,
    run_step: RunStep,
    running: Running,
    store: PlanStore | None,
    started: set[str],
) -> StepOutcome:
    try:
        if store is not None:
            await _before(store, plan, step, started)
        await run_step(plan.id, step, _call(client, step, running))
    except Exception as exc:
        return StepOutcome(n=step.n, action=step.action, subject=step.subject, status="failed", cause=_cause(exc))
    return StepOutcome(n=step.n, action=step.action, subject=step.subject, status="done")


async def _progress(watch: Watch, step: Step, done: int, total: int) -> None:
    if watch.progress is None:
        return
    try:
        # Inside a shielded step: a client that stopped reading must not hold the run past its cancellation.
        with anyio.move_on_after(PROGRESS_WAIT_SECONDS):
            await watch.progress(step, done, total)
    except Exception as exc:  # the step is done whether or not the client heard of it
        logger.warning("progress of step %s could not be reported: %s", step.n, type(exc).__name__)


async def _finish(plan: Plan, ran: Sequence[StepOutcome], store: PlanStore | None, started: set[str]) -> ApplyReport:
    """The report: the steps that ran, then every other step as not started; finished moves are forgotten."""
    waiting = [
        StepOutcome(n=step.n, action=step.action, subject=step.subject, status="not_started")
        for step in plan.steps[len(ran) :]
    ]
    outcomes = [*ran, *waiting]
    if store is not None and (finished := _finished(started, outcomes)):
        try:
            await store.forget_moves(finished)
        except PlanStoreUnavailable as exc:  # planning again forgets finished moves
            logger.warning("finished moves are still remembered as unfinished: %s", exc)
    failure = next((outcome for outcome in ran if outcome.status == "failed"), None)
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
    again = (
        "call plan_changes again with the same request: it plans only what is still missing (moves interrupted "
        "half-way are finished, their agents restored)."
    )
    if failure is None and not waiting:
        listed: list[StepOutcome] = []  # every step is done: the count says it
        advice = f"Every step is done ({done})."
    elif failure is None:  # steps left without a failure: the run was cancelled
        # The steps around the stop matter; a long run of done steps does not.
        index = done
        listed = outcomes[max(0, index - 3) : index + SHOWN - 3]
        ran = f"after step {outcomes[index - 1].n}" if index else "before step 1 (nothing changed)"
        advice = (
            f"Cancelled {ran} of {len(outcomes)}: the call was cancelled or its connection closed, between two "
            f"steps. Steps {outcomes[index].n}-{outcomes[-1].n} were not started. For them, {again} Preview and "
            "confirm that plan again: a plan runs once."
        )
    else:
        index = outcomes.index(failure)
        listed = outcomes[max(0, index - 3) : index + SHOWN - 3]
        advice = (
            f"Stopped at step {failure.n}; steps after it were not started. Fix the cause if it is yours, then {again}"
        )
    return ApplyReport(
        plan_id=plan.id,
        complete=failure is None and not waiting,
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


def missing_secrets(plan: Plan, env: Mapping[str, str], secrets: str = SECRET_PREFIX) -> list[str]:
    """The password variables the plan reads that `env` lacks (or that it may not read: not named `secrets`...)."""
    names = {name for step in plan.steps for name in step.change.password_variables()}
    return sorted(name for name in names if not name.startswith(secrets) or name not in env)
