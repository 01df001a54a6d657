"""The numbers toolset: the organization's phone-number directory."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_anyreach.api import PhoneNumber
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.changes.results import ApplyReport
from mcp_anyreach.domain.api_errors import api_errors
from mcp_anyreach.domain.args import ConfirmationToken, Cursor, Limit, PhoneNumberArg, PhoneNumberList, TrunkId
from mcp_anyreach.domain.records import CURSOR_LOOP, POSSIBLY_INCOMPLETE, Gated, Listing, NumberView
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.summaries import number_sentence
from mcp_anyreach.domain.text import shown
from mcp_anyreach.domain.uris import NUMBERS_URI, TRUNKS_URI, number_uri, trunk_uri
from mcp_anyreach.server.gate.gatekeeper import Verdict, Write
from mcp_anyreach.server.gate.tokens import Preview
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.tools.changes import SAME_TOOL_AGAIN, plans_reachable, run_change_set, run_planned
from mcp_anyreach.server.tools.undoable import run_undoable

if TYPE_CHECKING:
    from mcp_anyreach.changes.executor import RunStep, Watch
    from mcp_anyreach.changes.model import Plan

NUMBER_NOT_FOUND = "Find numbers with list_phone_numbers."
SCAN_PAGES = 20
SlotFilter = Annotated[str | None, Field(max_length=64, description="Agent id (list_agents), none or any")]
Digits = Annotated[str | None, Field(max_length=16, pattern=r"^\+?[0-9]+$", description="Digits the number contains")]


async def list_phone_numbers(
    services: Services,
    contains: Digits = None,
    trunk_id: TrunkId | None = None,
    inbound_agent: SlotFilter = None,
    outbound_agent: SlotFilter = None,
    trunk_kind: Literal["managed", "byoc"] | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Listing[NumberView]:
    """List phone numbers with their trunk and agents (name vN), oldest first."""
    agents = await services.agent_names.directory()
    keep = await _number_filter(services, agents, trunk_id, inbound_agent, outbound_agent, trunk_kind)
    items: list[NumberView] = []
    warning: str | None = None
    used = {cursor}
    for _ in range(SCAN_PAGES if keep else 1):
        with api_errors(retry_safe=True):
            page = await services.client.phone_numbers.list(
                phone_number=contains, trunk_id=trunk_id, limit=limit, cursor=cursor
            )
        items += [NumberView.of(n, agents) for n in page.items if keep is None or keep(n)]
        cursor = page.next_cursor
        warning = POSSIBLY_INCOMPLETE if page.possibly_incomplete else None
        if cursor in used - {None}:
            return Listing(items=items, next_cursor=None, warning=CURSOR_LOOP)
        used.add(cursor)
        if cursor is None or len(items) >= limit:
            break
    else:
        if keep is not None and cursor is not None:
            warning = f"Scanned {SCAN_PAGES} pages for matches; call again with next_cursor to go on."
    return Listing(items=items, next_cursor=cursor, warning=warning)


async def get_phone_number(services: Services, phone_number: PhoneNumberArg) -> NumberView:
    """Get one number: its trunk, agents and outbound sharing."""
    agents = await services.agent_names.directory()
    with api_errors(retry_safe=True, not_found=NUMBER_NOT_FOUND):
        return NumberView.of(await services.client.phone_numbers.get(phone_number), agents)


async def register_phone_number(
    services: Services,
    ctx: Context,
    write: Write,
    phone_number: PhoneNumberArg,
    trunk_id: TrunkId,
    outbound_shareable: bool = False,
) -> NumberView:
    """Add a number you own elsewhere to the directory, on a BYOC trunk."""

    async def register() -> NumberView:
        with api_errors(
            retry_safe=False,
            refused=_registration_hint,
            not_found="Find trunk ids with list_trunks, or create one with create_trunk.",
            conflict="It is already in the directory; see get_phone_number.",
        ):
            created = await services.client.phone_numbers.create(
                phone_number=phone_number, trunk_id=trunk_id, outbound_shareable=outbound_shareable
            )
        return NumberView.of(created)

    changed = [NUMBERS_URI, number_uri(phone_number), TRUNKS_URI, trunk_uri(trunk_id)]
    return await services.gatekeeper.write(ctx, write, register, changed=changed)


def _registration_hint(detail: str) -> str:
    if "limit" in detail.lower():
        return "Delete numbers nobody uses (audit_inventory lists them) or ask Anyreach to raise the limit."
    return (
        "Register numbers only on a BYOC trunk (list_trunks, kind=byoc); "
        "numbers for managed trunks are bought with purchase_phone_number."
    )


async def update_phone_number(
    services: Services, ctx: Context, write: Write, phone_number: PhoneNumberArg, outbound_shareable: bool
) -> NumberView:
    """Allow or forbid other agents to call out from this number."""

    async def update() -> NumberView:
        with api_errors(retry_safe=True, not_found=NUMBER_NOT_FOUND):
            updated = await services.client.phone_numbers.update(phone_number, outbound_shareable=outbound_shareable)
        return NumberView.of(updated, await services.agent_names.directory())

    changed = [NUMBERS_URI, number_uri(phone_number)]
    return await services.gatekeeper.write(ctx, write, update, changed=changed)


async def preview_delete_phone_number(services: Services, phone_number: str) -> Preview:
    with api_errors(retry_safe=True, not_found=NUMBER_NOT_FOUND):
        number = await services.client.phone_numbers.get(phone_number)
        trunk = await services.client.trunks.get(number.trunk_id)
    agents = await services.agent_names.directory()
    summary = f"Delete {number.phone_number} from the directory; its calls stop. {number_sentence(number, agents)}"
    if trunk.managed_account_id:
        summary += (
            f" It was bought: the number is released, and its managed trunk {shown(trunk.name)!r} stays behind "
            "(the API cannot delete managed trunks)."
        )
    return Preview(summary, number.model_dump(mode="json"), (number_uri(phone_number),))


async def delete_phone_number(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    phone_number: PhoneNumberArg,
    confirmation_token: ConfirmationToken = None,
) -> Gated[str]:
    """Remove a number; its calls stop being answered. Gated."""

    async def delete() -> str:
        with plans_reachable(SAME_TOOL_AGAIN):  # a move left unfinished must not bring the number back later
            await services.plans.forget_moves([phone_number])
        with api_errors(retry_safe=True, not_found=NUMBER_NOT_FOUND):
            await services.client.phone_numbers.delete(phone_number)
        return phone_number

    from mcp_anyreach.changes.undo import Touched

    touched = Touched(phones=frozenset({phone_number}), deleted=frozenset({phone_number}))
    changed = [NUMBERS_URI, number_uri(phone_number)]
    return await run_undoable(services, ctx, verdict, delete, touched, changed=changed, read_back=True)


async def _number_filter(
    services: Services,
    agents: AgentDirectory | None,
    trunk_id: str | None,
    inbound_agent: str | None,
    outbound_agent: str | None,
    trunk_kind: str | None,
) -> Callable[[PhoneNumber], bool] | None:
    """A filter the API cannot apply, checked first: a filter on a trunk or agent that does not exist is an
    error, never an empty list the model would take for an answer."""
    if trunk_id is not None:
        with api_errors(retry_safe=True, not_found=f"No trunk {trunk_id}. Find trunk ids with list_trunks."):
            await services.client.trunks.get(trunk_id)
    tests: list[Callable[[PhoneNumber], bool]] = []
    for slot, wanted in (("inbound", inbound_agent), ("outbound", outbound_agent)):
        if wanted is not None:
            tests.append(_slot_test(agents, f"{slot}_agent_version_id", wanted))
    if trunk_kind is not None:
        with api_errors(retry_safe=True):
            managed = {t.id async for t in services.client.trunks.iter() if t.managed_account_id}
        tests.append(lambda n: (n.trunk_id in managed) == (trunk_kind == "managed"))
    return (lambda n: all(test(n) for test in tests)) if tests else None


def _slot_test(agents: AgentDirectory | None, slot: str, wanted: str) -> Callable[[PhoneNumber], bool]:
    if wanted in ("none", "any"):
        return lambda n: (getattr(n, slot) is None) == (wanted == "none")
    if agents is None:
        raise Refusal("Cannot filter by agent: the agents cannot be read with this credential (agents:read).")
    if agents.agent(wanted) is None:
        raise Refusal(f"There is no agent {wanted}. Find agent ids with list_agents, or use none or any.")
    own = {version.id for version in agents.versions_of(wanted)}
    return lambda n: getattr(n, slot) in own


async def _bulk_plan(services: Services, operation: dict[str, Any]) -> Plan:
    from mcp_anyreach.changes.engine import plan_operations  # on first use, as in tools/changes.py

    with plans_reachable(SAME_TOOL_AGAIN), api_errors(retry_safe=True):
        plan = await plan_operations(services.client, services.plans, [operation], save=False)
    if not plan.steps:
        raise Refusal(" ".join(["Nothing to do.", *plan.notes]))
    return plan


async def _bulk_preview(services: Services, operation: dict[str, Any]) -> Preview:
    from mcp_anyreach.changes.engine import fingerprint, preview_text

    plan = await _bulk_plan(services, operation)
    return Preview(preview_text(plan), fingerprint(plan), tuple(plan.targets))


async def _bulk_run(
    services: Services, ctx: Context, verdict: Verdict, operation: dict[str, Any]
) -> Gated[ApplyReport]:
    tool = "move_phone_numbers" if operation["op"] == "move_numbers" else "delete_phone_numbers"
    from mcp_anyreach.changes.engine import fingerprint

    async def apply(run_step: RunStep, watch: Watch) -> ApplyReport:
        plan = await _bulk_plan(services, operation)
        if fingerprint(plan) != verdict.preview.state:
            raise Refusal("What this change touches moved since the preview, so nothing was done; call again.")
        return await run_planned(services, plan, run_step, watch, tool=tool)

    return await run_change_set(services, ctx, verdict, apply)


def _move(to_trunk_id: str, phone_numbers: list[str], from_trunk_id: str | None) -> dict[str, Any]:
    return {
        "op": "move_numbers",
        "to_trunk_id": to_trunk_id,
        "phone_numbers": phone_numbers,
        "from_trunk_id": from_trunk_id,
    }


async def preview_move_phone_numbers(
    services: Services, to_trunk_id: str, phone_numbers: list[str], from_trunk_id: str | None
) -> Preview:
    return await _bulk_preview(services, _move(to_trunk_id, phone_numbers, from_trunk_id))


async def move_phone_numbers(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    to_trunk_id: TrunkId,
    phone_numbers: PhoneNumberList = [],  # noqa: B006 - pydantic copies defaults
    from_trunk_id: Annotated[TrunkId | None, Field(description="From list_trunks; moves all its numbers")] = None,
    confirmation_token: ConfirmationToken = None,
) -> Gated[ApplyReport]:
    """Move numbers to a BYOC trunk, keeping sharing and agents (delete, register, publish). Gated once."""
    return await _bulk_run(services, ctx, verdict, _move(to_trunk_id, phone_numbers, from_trunk_id))


async def preview_delete_phone_numbers(services: Services, phone_numbers: list[str]) -> Preview:
    return await _bulk_preview(services, {"op": "delete_numbers", "phone_numbers": phone_numbers})


async def delete_phone_numbers(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    phone_numbers: PhoneNumberList,
    confirmation_token: ConfirmationToken = None,
) -> Gated[ApplyReport]:
    """Remove many numbers; their calls stop being answered. Gated once for all."""
    return await _bulk_run(services, ctx, verdict, {"op": "delete_numbers", "phone_numbers": phone_numbers})
