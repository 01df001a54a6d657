"""The change-set engine as the tools and the command line use it: plan, check that a plan is fresh, apply."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from functools import partial
from typing import Any

import anyio

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.actions import SECRET_PREFIX
from mcp_anyreach.changes.desired import DesiredState, compile_document, load_document
from mcp_anyreach.changes.executor import RunStep, Watch, run_plan
from mcp_anyreach.changes.model import Plan
from mcp_anyreach.changes.operations import Undo, compile_operations, parse_operations
from mcp_anyreach.changes.planner import make_plan
from mcp_anyreach.changes.results import ApplyReport
from mcp_anyreach.changes.snapshot import Snapshot, observe, read_snapshot
from mcp_anyreach.changes.store import ANONYMOUS_CALLER, PlanStore, new_plan_id
from mcp_anyreach.changes.undo import basis_of, kept_sentence, record_undo, touched_by
from mcp_anyreach.changes.undo_plan import undo_targets, unknown_undo
from mcp_anyreach.changes.undo_store import UndoStore
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.text import listed
from mcp_anyreach.domain.uris import NUMBERS_URI, ROUTING_URI, TRUNKS_URI

logger = logging.getLogger("mcp_anyreach.server")
UNDO_AFTER_CANCEL_SECONDS = 5.0


async def plan_operations(
    client: AnyreachClient,
    store: PlanStore,
    operations: Sequence[Mapping[str, Any]],
    *,
    save: bool = True,
    owner: str = ANONYMOUS_CALLER,
    undos: UndoStore | None = None,
) -> Plan:
    """Plan a list of operations (see operations.py); AnyreachError when the API fails, Refusal when impossible.
    An undo operation is planned from its record in `undos`."""
    parsed = parse_operations(operations)
    if undo := next((operation for operation in parsed if isinstance(operation, Undo)), None):
        if len(parsed) > 1:
            raise Refusal("Plan an undo alone: give only the undo operation.")
        return await _plan_undo(client, store, undos, undo, save=save, owner=owner)
    snapshot = await read_snapshot(client)
    interrupted = await store.moves()
    targets, notes = compile_operations(parsed, snapshot, interrupted)
    plan = make_plan(snapshot, targets, plan_id=new_plan_id(), notes=notes)
    return await _keep(store, _undoable(plan, snapshot), save, owner)


async def _plan_undo(
    client: AnyreachClient, store: PlanStore, undos: UndoStore | None, undo: Undo, *, save: bool, owner: str
) -> Plan:
    if undos is None:
        raise Refusal("This command keeps no undo records; plan the undo where the change was made.")
    record = await undos.load(undo.undo_id)
    if record is None:
        raise Refusal(unknown_undo(undo.undo_id, undos))
    snapshot = await read_snapshot(client)
    interrupted = await store.moves()
    targets, notes = undo_targets(record, snapshot, interrupted, undo.passwords)
    plan = make_plan(snapshot, targets.numbers, targets.trunks, targets.routing, plan_id=new_plan_id(), notes=notes)
    if not plan.steps:
        why = notes[1:] or ["every target it wrote is already as it was before it."]
        raise Refusal(f"Nothing to undo now, so nothing was planned: {' '.join(why)}")
    return await _keep(store, _undoable(plan, snapshot), save, owner)


def _undoable(plan: Plan, snapshot: Snapshot) -> Plan:
    """The plan with what it replaces, so that once applied it can be undone."""
    return plan.model_copy(update={"undo": basis_of(snapshot, touched_by(plan.steps))}) if plan.steps else plan


async def plan_document(
    client: AnyreachClient,
    store: PlanStore,
    document: str | Mapping[str, Any] | DesiredState,
    *,
    from_file: bool = False,
    save: bool = True,
    owner: str = ANONYMOUS_CALLER,
    organization: Collection[str] = (),
) -> Plan:
    """Plan a desired-state document (YAML or JSON text, parsed, or already loaded). Its secrets are only named:
    they are read when the plan is applied, so planning never tells whether a variable exists. `organization` is
    what the organization `client` acts in is called (its id and name): a document naming another is refused."""
    doc = (
        document
        if isinstance(document, DesiredState)
        else await anyio.to_thread.run_sync(partial(load_document, document, from_file=from_file))
    )
    if doc.organization is not None and doc.organization not in organization:
        called = f" ({' or '.join(sorted(set(organization)))})" if organization else ""
        raise Refusal(
            f"The document is for organization {doc.organization!r}, not the one this plan is for{called}; nothing "
            "was planned. Plan it in the organization it names, or correct its organization: key."
        )
    snapshot = await read_snapshot(client)
    interrupted = await store.moves()
    targets = compile_document(doc, snapshot, interrupted)
    plan = make_plan(
        snapshot,
        targets.numbers,
        targets.trunks,
        targets.routing,
        plan_id=new_plan_id(),
    )
    return await _keep(store, _undoable(plan, snapshot), save, owner)


async def _keep(store: PlanStore, plan: Plan, save: bool, owner: str) -> Plan:
    if not plan.steps and plan.moves:
        await store.forget_moves(plan.moves)  # an interrupted move that turned out to be finished
    if save and plan.steps:
        await store.save(plan, owner)
    return plan


async def stale_resources(client: AnyreachClient, plan: Plan) -> list[str]:
    """The resources the plan touches that changed since it was planned."""
    now = await observe(client, plan.basis)
    return [uri for uri, digest in plan.basis.items() if now.get(uri) != digest]


async def fresh_plan(client: AnyreachClient, store: PlanStore, plan_id: str) -> Plan:
    """The stored plan, if the account still looks as it did when planned; else a Refusal saying what moved."""
    plan = await store.load(plan_id)
    if plan is None:
        raise Refusal(
            f"There is no plan {plan_id} (plans last {store.ttl_seconds // 60} minutes and run once); call "
            "plan_changes again."
        )
    if moved := await stale_resources(client, plan):
        raise Refusal(
            f"The plan is stale: {_names(moved)} changed since it was planned, so nothing was done. Call "
            "plan_changes again to plan against the current state."
        )
    return plan


async def apply_plan(
    client: AnyreachClient,
    store: PlanStore,
    plan_id: str,
    run_step: RunStep,
    *,
    env: Mapping[str, str],
    watch: Watch | None = None,
    undos: UndoStore | None = None,
    secrets: str = SECRET_PREFIX,
) -> ApplyReport:
    """Take the plan (it runs once) and run it; the caller has checked that it is fresh. A cancelled run stops
    between steps and tells `watch` what ran: the rest is planned again, and previewed and confirmed again. What
    ran is recorded in `undos`, and the report says its undo id."""
    plan = await store.take(plan_id)
    if plan is None:
        raise Refusal(f"The plan {plan_id} was applied or expired meanwhile; call plan_changes again.")
    made_by = f"apply_changes {plan.id}"
    watch = recording_watch(client, undos, plan, watch, made_by=made_by)
    report = await run_plan(client, plan, run_step, env=env, store=store, watch=watch, secrets=secrets)
    return await remember_undo(client, undos, plan, report, made_by=made_by)


def recording_watch(
    client: AnyreachClient, undos: UndoStore | None, plan: Plan, watch: Watch | None, *, made_by: str
) -> Watch | None:
    """`watch`, told of a cancelled run with the undo id of what ran, so that its undo can be planned too."""
    if undos is None or plan.undo is None:
        return watch
    told = watch.cancelled if watch is not None else None

    async def cancelled(report: ApplyReport) -> None:
        # Shielded by the executor, and bounded: the client that cancelled may be waiting for the call to end.
        with anyio.move_on_after(UNDO_AFTER_CANCEL_SECONDS):
            report = await remember_undo(client, undos, plan, report, made_by=made_by)
        if told is not None:
            await told(report)

    return Watch(progress=watch.progress if watch is not None else None, cancelled=cancelled)


async def remember_undo(
    client: AnyreachClient, undos: UndoStore | None, plan: Plan, report: ApplyReport, *, made_by: str
) -> ApplyReport:
    """The report with the undo id of what ran (nothing ran: no record)."""
    if undos is None or plan.undo is None or not report.done:
        return report
    try:
        record = await record_undo(client, undos, plan.undo, made_by=made_by)
    except Exception as exc:  # the change is made: a record that could not be kept must not report it failed
        logger.warning("the undo record of %s could not be kept: %s", made_by, type(exc).__name__)
        return report.model_copy(update={"undo": f"No undo record could be kept ({type(exc).__name__})."})
    return report.model_copy(update={"undo_id": record.id, "undo": kept_sentence(record, undos)})


def preview_text(plan: Plan) -> str:
    """What a person approves: the summary, the impact, and every step (a count alone would hide which)."""
    return "\n".join([plan.summary(), *plan.impact, *plan.lines()])


def fingerprint(plan: Plan) -> dict[str, Any]:
    """What approving a plan approves: these steps, against the account as it was seen."""
    return {"basis": plan.basis, "steps": [step.model_dump(mode="json", exclude={"n"}) for step in plan.steps]}


def _names(uris: Sequence[str]) -> str:
    names = [
        uri.removeprefix(NUMBERS_URI + "/").removeprefix(TRUNKS_URI + "/").replace(ROUTING_URI, "the routing config")
        for uri in uris
    ]
    return listed(names)
