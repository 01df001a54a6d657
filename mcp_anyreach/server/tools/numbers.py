"""The numbers toolset: the organization's phone-number directory."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_anyreach.server.args import ConfirmationToken, Cursor, Limit, PhoneNumberArg, TrunkId
from mcp_anyreach.server.confirm import Preview
from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.gate import Verdict, Write, previewed_by
from mcp_anyreach.server.notify import NUMBERS_URI, TRUNKS_URI, number_uri, trunk_uri
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.summaries import number_sentence
from mcp_anyreach.server.views import POSSIBLY_INCOMPLETE, Gated, Listing, NumberView

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
    warning = POSSIBLY_INCOMPLETE if page.possibly_incomplete else None
    return Listing(items=[NumberView.of(n) for n in page.items], next_cursor=page.next_cursor, warning=warning)


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


TOOLS = (list_phone_numbers, get_phone_number, register_phone_number, update_phone_number, delete_phone_number)
