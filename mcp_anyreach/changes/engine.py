"""The change-set engine as the tools and the command line use it: plan, check that a plan is fresh, apply."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import partial
from typing import Any

import anyio

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.desired import DesiredState, compile_document, load_document
from mcp_anyreach.changes.executor import RunStep, Watch, run_plan
from mcp_anyreach.changes.model import Plan
from mcp_anyreach.changes.operations import compile_operations, parse_operations
from mcp_anyreach.changes.planner import make_plan
from mcp_anyreach.changes.results import ApplyReport
from mcp_anyreach.changes.snapshot import observe, read_snapshot
from mcp_anyreach.changes.store import ANONYMOUS_CALLER, PlanStore, new_plan_id
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.text import listed
from mcp_anyreach.domain.uris import NUMBERS_URI, ROUTING_URI, TRUNKS_URI


async def plan_operations(
    client: AnyreachClient,
    store: PlanStore,
    operations: Sequence[Mapping[str, Any]],
    *,
    save: bool = True,
    owner: str = ANONYMOUS_CALLER,
) -> Plan:
    """Plan a list of operations (see operations.py); AnyreachError when the API fails, Refusal when impossible."""
    parsed = parse_operations(operations)
    snapshot = await read_snapshot(client)
    interrupted = await store.moves()
    targets, notes = compile_operations(parsed, snapshot, interrupted)
    plan = make_plan(snapshot, targets, plan_id=new_plan_id(), notes=notes)
    return await _keep(store, plan, save, owner)


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
    return await _keep(store, plan, save, owner)


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
) -> ApplyReport:
    """Take the plan (it runs once) and run it; the caller has checked that it is fresh. A cancelled run stops
    between steps and tells `watch` what ran: the rest is planned again, and previewed and confirmed again."""
    plan = await store.take(plan_id)
    if plan is None:
        raise Refusal(f"The plan {plan_id} was applied or expired meanwhile; call plan_changes again.")
    return await run_plan(client, plan, run_step, env=env, store=store, watch=watch)


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
