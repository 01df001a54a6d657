"""The numbers toolset: the organization's phone-number directory."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_anyreach.server.args import ConfirmationToken, Cursor, Limit, PhoneNumberArg, PhoneNumberList, TrunkId
from mcp_anyreach.server.changes import ApplyReport, Plan, RunStep, fingerprint, plan_operations, preview_text
from mcp_anyreach.server.confirm import Preview
from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.gate import Verdict, Write, previewed_by
from mcp_anyreach.server.notify import NUMBERS_URI, TRUNKS_URI, number_uri, trunk_uri
from mcp_anyreach.server.refusal import Refusal
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.summaries import number_sentence
from mcp_anyreach.server.tools.changes import run_change_set, run_planned
from mcp_anyreach.server.views import Gated, Listing, NumberView

NUMBER_NOT_FOUND = "Find numbers with list_phone_numbers."
Digits = Annotated[str | None, Field(max_length=16, pattern=r"^\+?[0-9]+$", description="Digits the number contains")]


async def list_phone_numbers(
    services: Services,
    contains: Digits = None,
    trunk_id: TrunkId | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Listing[NumberView]:
    """List the organization's phone numbers with their trunk and agent versions, oldest first."""
    with api_errors(retry_safe=True):
        page = await services.client.phone_numbers.list(
            phone_number=contains, trunk_id=trunk_id, limit=limit, cursor=cursor
        )
    return Listing(items=[NumberView.of(n) for n in page.items], next_cursor=page.next_cursor)


async def get_phone_number(services: Services, phone_number: PhoneNumberArg) -> NumberView:
    """Get one number: its trunk, agent versions and outbound sharing."""
    with api_errors(retry_safe=True, not_found=NUMBER_NOT_FOUND):
        return NumberView.of(await services.client.phone_numbers.get(phone_number))


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
            refused="Register numbers only on a BYOC trunk (list_trunks, kind=byoc); "
            "numbers for managed trunks are bought with purchase_phone_number.",
            not_found="Find trunk ids with list_trunks, or create one with create_trunk.",
            conflict="It is already in the directory; see get_phone_number.",
        ):
            created = await services.client.phone_numbers.create(
                phone_number=phone_number, trunk_id=trunk_id, outbound_shareable=outbound_shareable
            )
        return NumberView.of(created)

    changed = [NUMBERS_URI, number_uri(phone_number), TRUNKS_URI, trunk_uri(trunk_id)]
    return await services.gatekeeper.write(ctx, write, register, changed=changed)


async def update_phone_number(
    services: Services, ctx: Context, write: Write, phone_number: PhoneNumberArg, outbound_shareable: bool
) -> NumberView:
    """Allow or forbid other agents to call out from this number."""

    async def update() -> NumberView:
        with api_errors(retry_safe=True, not_found=NUMBER_NOT_FOUND):
            updated = await services.client.phone_numbers.update(phone_number, outbound_shareable=outbound_shareable)
        return NumberView.of(updated)

    changed = [NUMBERS_URI, number_uri(phone_number)]
    return await services.gatekeeper.write(ctx, write, update, changed=changed)


async def preview_delete_phone_number(services: Services, phone_number: str) -> Preview:
    with api_errors(retry_safe=True, not_found=NUMBER_NOT_FOUND):
        number = await services.client.phone_numbers.get(phone_number)
    summary = f"Delete {number.phone_number} from the directory. {number_sentence(number)}"
    return Preview(summary, number.model_dump(mode="json"), (number_uri(phone_number),))


@previewed_by(preview_delete_phone_number)
async def delete_phone_number(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    phone_number: PhoneNumberArg,
    confirmation_token: ConfirmationToken = None,
) -> Gated[str]:
    """Remove a number; its calls stop being answered. Gated."""

    async def delete() -> str:
        with api_errors(retry_safe=True, not_found=NUMBER_NOT_FOUND):
            await services.client.phone_numbers.delete(phone_number)
        return phone_number

    return await services.gatekeeper.run(ctx, verdict, delete, changed=[NUMBERS_URI, number_uri(phone_number)])


async def _bulk_plan(services: Services, operation: dict[str, Any]) -> Plan:
    with api_errors(retry_safe=True):
        plan = await plan_operations(services.client, services.plans, [operation], save=False)
    if not plan.steps:
        raise Refusal(" ".join(["Nothing to do.", *plan.notes]))
    return plan


async def _bulk_preview(services: Services, operation: dict[str, Any]) -> Preview:
    plan = await _bulk_plan(services, operation)
    return Preview(preview_text(plan), fingerprint(plan), tuple(plan.targets))


async def _bulk_run(
    services: Services, ctx: Context, verdict: Verdict, operation: dict[str, Any]
) -> Gated[ApplyReport]:
    async def apply(run_step: RunStep) -> ApplyReport:
        plan = await _bulk_plan(services, operation)
        if fingerprint(plan) != verdict.preview.state:
            raise Refusal("What this change touches moved since the preview, so nothing was done; call again.")
        return await run_planned(services, plan, run_step)

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


@previewed_by(preview_move_phone_numbers)
async def move_phone_numbers(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    to_trunk_id: TrunkId,
    phone_numbers: PhoneNumberList = [],  # noqa: B006 - pydantic copies defaults
    from_trunk_id: Annotated[TrunkId | None, Field(description="Move all its numbers")] = None,
    confirmation_token: ConfirmationToken = None,
) -> Gated[ApplyReport]:
    """Move numbers to a BYOC trunk, keeping sharing and agents (delete, register, publish). Gated once."""
    return await _bulk_run(services, ctx, verdict, _move(to_trunk_id, phone_numbers, from_trunk_id))


async def preview_delete_phone_numbers(services: Services, phone_numbers: list[str]) -> Preview:
    return await _bulk_preview(services, {"op": "delete_numbers", "phone_numbers": phone_numbers})


@previewed_by(preview_delete_phone_numbers)
async def delete_phone_numbers(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    phone_numbers: PhoneNumberList,
    confirmation_token: ConfirmationToken = None,
) -> Gated[ApplyReport]:
    """Remove many numbers; their calls stop being answered. Gated once for all."""
    return await _bulk_run(services, ctx, verdict, {"op": "delete_numbers", "phone_numbers": phone_numbers})


TOOLS = (
    list_phone_numbers,
    get_phone_number,
    register_phone_number,
    update_phone_number,
    delete_phone_number,
    move_phone_numbers,
    delete_phone_numbers,
)
