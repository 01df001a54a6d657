"""The changes toolset: many changes behind one preview and one confirmation, planned by the change-set engine.

`plan_changes` only reads and keeps the plan; `apply_changes` is gated once for the whole plan, through
the same gatekeeper as every single-call tool: each step is recorded in the audit log as the single-call
tool that does the same (with the plan id), and clients are told once what changed. Each step done is reported
as progress (when the client asked for it); a cancelled apply stops between steps and its audit line says what ran.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_anyreach.changes.results import ApplyReport, PlanView
from mcp_anyreach.domain.api_errors import api_errors
from mcp_anyreach.domain.args import ConfirmationToken
from mcp_anyreach.domain.records import Gated
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.uris import NUMBERS_URI, OPERATIONS_URI, ROUTING_URI, SCHEMA_URI, TRUNKS_URI
from mcp_anyreach.server.caller import may_write
from mcp_anyreach.server.gate.audit_log import note_undo
from mcp_anyreach.server.gate.gatekeeper import Verdict
from mcp_anyreach.server.gate.tokens import Preview
from mcp_anyreach.server.notify import notify_changed
from mcp_anyreach.server.sdk import caller
from mcp_anyreach.server.services import Services
from mcp_anyreach.shared_state.errors import SharedStateUnavailable

if TYPE_CHECKING:
    from mcp_anyreach.changes.executor import RunStep, Watch
    from mcp_anyreach.changes.model import Plan, Step

logger = logging.getLogger("mcp_anyreach.server")
# How long a cancelled apply may spend telling subscribers what changed: its client may be gone.
NOTIFY_AFTER_CANCEL_SECONDS = 5.0

# The engine (changes) is imported where it is used: start-up, which a host waits for on every
# launch, then only declares the tools.

PlanId = Annotated[
    str, Field(min_length=8, max_length=64, pattern=r"^pln_[A-Za-z0-9_-]+$", description="From plan_changes")
]


async def plan_changes(
    services: Services,
    ctx: Context,
    operations: Annotated[
        list[dict[str, Any]] | None, Field(max_length=50, description=f"Jobs, as {OPERATIONS_URI} describes")
    ] = None,
    desired_state: Annotated[
        dict[str, Any] | str | None, Field(description=f"YAML/JSON document, as {SCHEMA_URI} describes")
    ] = None,
) -> PlanView:
    """Plan changes without making them: steps, caller impact, plan_id for apply_changes.

    operations by op (one item, many numbers):
    register_numbers: phone_numbers, trunk_id
    delete_numbers: unused=true | phone_numbers | from_trunk_id
    move_numbers: phone_numbers | from_trunk_id, to_trunk_id
    assign_agent: agent (id or name), phone_numbers, direction?
    unassign_agent: phone_numbers, direction?
    set_shareable: phone_numbers, outbound_shareable
    undo: undo_id
    """
    from mcp_anyreach.changes.engine import plan_document, plan_operations

    if (operations is None) == (desired_state is None):
        raise Refusal(f"Give operations ({OPERATIONS_URI}) or desired_state ({SCHEMA_URI}), not both.")
    cannot_apply = _why_not_applyable(services)
    save, owner = cannot_apply is None, caller()
    with plans_reachable(), api_errors(retry_safe=True):
        if operations is not None:
            plan = await plan_operations(
                services.client, services.plans, operations, save=save, owner=owner, undos=services.undo
            )
        else:
            assert desired_state is not None
            plan = await plan_document(
                services.client, services.plans, desired_state, save=save, owner=owner, organization=_called(services)
            )
    if cannot_apply is not None:
        hint = f"{cannot_apply}; this plan was not kept, so plan it again there"
        view = PlanView.of(plan, ttl_seconds=services.plans.ttl_seconds, apply_hint=hint)
        return view.model_copy(update={"plan_id": None, "expires_in_seconds": None})
    token = None
    if plan.steps:
        token = services.gatekeeper.offer_token(ctx, "apply_changes", {"plan_id": plan.id}, _apply_preview(plan))
    hint = (
        "show this plan to the user and, only if they agree, call apply_changes with plan_id and "
        f"confirmation_token (valid {services.gatekeeper.token_ttl_seconds} s, once)"
        if token
        else "call apply_changes with this plan_id"
    )
    view = PlanView.of(plan, ttl_seconds=services.plans.ttl_seconds, apply_hint=hint)
    return view.model_copy(update={"confirmation_token": token})


def _why_not_applyable(services: Services) -> str | None:
    """What this caller must use to apply a plan, if it cannot apply one here: its plans are then not kept,
    so that a reader planning in a loop crowds out no writer's plan."""
    if services.settings.read_only:
        return "use a server without --read-only (this one cannot apply plans)"
    if not may_write(services.settings.oauth_write_scope):
        return f"sign in with the {services.settings.oauth_write_scope} scope (this sign-in can only read)"
    return None


def _apply_preview(plan: Plan) -> Preview:
    """What apply_changes previews: the same whether plan_changes or apply_changes itself shows it."""
    from mcp_anyreach.changes.engine import fingerprint, preview_text

    return Preview(preview_text(plan), {"plan": plan.id, **fingerprint(plan)}, tuple(plan.targets))


async def preview_apply_changes(services: Services, plan_id: str) -> Preview:
    from mcp_anyreach.changes.engine import fresh_plan

    with plans_reachable(), api_errors(retry_safe=True):
        return _apply_preview(await fresh_plan(services.client, services.plans, plan_id))


async def apply_changes(
    services: Services, ctx: Context, verdict: Verdict, plan_id: PlanId, confirmation_token: ConfirmationToken = None
) -> Gated[ApplyReport]:
    """Make a planned change set, in order, stopping at the first failure. Gated once for the whole plan."""

    from mcp_anyreach.changes.engine import apply_plan

    async def apply(run_step: RunStep, watch: Watch) -> ApplyReport:
        with plans_reachable(), api_errors(retry_safe=True):
            return await apply_plan(
                services.client,
                services.plans,
                plan_id,
                run_step,
                env=os.environ,
                watch=watch,
                undos=services.undo,
                secrets=secrets_of(services),
            )

    return await run_change_set(services, ctx, verdict, apply)


async def run_change_set(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    apply: Callable[[RunStep, Watch], Awaitable[ApplyReport]],
) -> Gated[ApplyReport]:
    """Run a change set behind a verdict: each step through the gate's `act` (audited, recorded as a write),
    one notification for everything it touched, and a partial run reported step by step, not as an error.
    Each step done is reported as progress; a cancelled run is recorded in the audit log with what ran."""
    from mcp_anyreach.changes.executor import Watch

    report: ApplyReport | None = None
    changed = [NUMBERS_URI, TRUNKS_URI, ROUTING_URI, *verdict.preview.targets]

    async def progress(step: Step, done: int, total: int) -> None:
        await ctx.report_progress(done, total, f"Step {step.n} of {total} done: {step.detail}")

    async def cancelled(ran: ApplyReport) -> None:
        await services.gatekeeper.cancelled(verdict, " ".join(filter(None, [ran.next, ran.undo])), ran)
        if ran.done:
            with anyio.move_on_after(NOTIFY_AFTER_CANCEL_SECONDS):
                try:
                    await notify_changed(ctx, changed)
                except Exception as exc:  # the client that cancelled may have closed its connection
                    logger.info("subscribers were not told of a cancelled apply's changes: %s", type(exc).__name__)

    watch = Watch(progress=progress, cancelled=cancelled)

    async def run_step(plan_id: str, step: Step, call: Callable[[], Awaitable[object]]) -> object:
        arguments = step.audit_arguments(plan_id)
        return await services.gatekeeper.act(ctx, step.tool, arguments, call, targets=step.targets)

    async def action() -> ApplyReport:
        nonlocal report
        report = ran = await apply(run_step, watch)
        if ran.undo_id is not None:
            note_undo(ran.undo_id)
        if (failure := ran.failure) is not None:
            raise Refusal(f"stopped at step {failure.n} ({failure.action} {failure.subject}): {failure.cause}")
        return ran

    def finish(gated: Gated[ApplyReport]) -> Gated[ApplyReport]:
        return _with_undo(gated, report)  # `report` is set by then

    async def stopped() -> Gated[ApplyReport] | None:
        """A run that a failed step stopped, reported step by step (what ran, what failed, how to undo it)."""
        if report is None or (report.done == 0 and report.failure is None):
            return None
        await notify_changed(ctx, changed)
        failure = report.failure
        assert failure is not None
        done = f"{report.done} steps are done" if report.done else "nothing changed"
        message = (
            f"Stopped at step {failure.n} of {report.done + 1 + report.not_started}: {failure.cause} "
            f"So far {done}; {report.not_started} steps were not started. {report.next}"
        )
        return _with_undo(Gated[ApplyReport](status="partial", message=message, result=report), report)

    gatekeeper = services.gatekeeper
    return await gatekeeper.run(ctx, verdict, action, changed=changed, read_back=True, finish=finish, stopped=stopped)


def _with_undo(gated: Gated[ApplyReport], report: ApplyReport | None) -> Gated[ApplyReport]:
    """The outcome with the undo id of what ran, and the line that says how to undo it."""
    if report is None or report.undo is None or gated.status not in ("done", "partial"):
        return gated
    return gated.model_copy(update={"undo_id": report.undo_id, "message": f"{gated.message}\n{report.undo}"})


async def run_planned(services: Services, plan: Plan, run_step: RunStep, watch: Watch, *, tool: str) -> ApplyReport:
    from mcp_anyreach.changes.engine import recording_watch, remember_undo
    from mcp_anyreach.changes.executor import run_plan

    recording = recording_watch(services.client, services.undo, plan, watch, made_by=tool)
    with plans_reachable(SAME_TOOL_AGAIN), api_errors(retry_safe=True):
        report = await run_plan(
            services.client,
            plan,
            run_step,
            env=os.environ,
            store=services.plans,
            watch=recording,
            secrets=secrets_of(services),
        )
    return await remember_undo(services.client, services.undo, plan, report, made_by=tool)


PLAN_AGAIN = "Try again in a minute; if the plan is then gone, call plan_changes again."
SAME_TOOL_AGAIN = "Call the same tool again in a minute."


@contextmanager
def plans_reachable(retry: str = PLAN_AGAIN) -> Generator[None]:
    """Planning and applying need the plans the replicas share: without them, refuse before changing anything.

    The store fails before a step runs (taking the plan, recording its moves) or after the last one (forgetting
    them, which the executor lets pass), so a refusal here always means that nothing changed.
    """
    try:
        yield
    except SharedStateUnavailable as exc:
        raise Refusal(
            f"The plans this server's replicas share could not be reached ({exc}), so nothing was changed. "
            f"{retry} If it keeps failing, the server's operator should check its Redis or token store."
        ) from exc


def secrets_of(services: Services) -> str:
    """The prefix of the password variables this organization's plans may read: on a server of several, its own."""
    from mcp_anyreach.changes.actions import SECRET_PREFIX, organization_secrets

    return SECRET_PREFIX if services.organization is None else organization_secrets(services.organization.id)


def _called(services: Services) -> tuple[str, ...]:
    """What the organization `services` acts in is called (its id and name), for a document that names one."""
    named = services.organization or (services.settings.organizations or (None,))[0]
    return () if named is None else (named.id, named.name)
