"""The agents toolset: which agent version answers (or places) calls on which numbers."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_anyreach.api import PhoneNumber
from mcp_anyreach.server.args import AgentId, ConfirmationToken, PhoneNumberList
from mcp_anyreach.server.confirm import Preview
from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.gate import Verdict, previewed_by
from mcp_anyreach.server.notify import NUMBERS_URI, number_uri
from mcp_anyreach.server.refusal import Refusal
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.text import shown
from mcp_anyreach.server.views import Gated, NumberView

Direction = Literal["inbound", "outbound", "both"]
SHOWN = 10


async def preview_assign_agent_to_numbers(
    services: Services,
    agent_id: str,
    version: int,
    phone_numbers: list[str],
    unassign_phone_numbers: list[str],
    direction: Direction,
) -> Preview:
    if not phone_numbers and not unassign_phone_numbers:
        raise Refusal("Give phone_numbers to assign and/or unassign_phone_numbers.")
    if set(phone_numbers) & set(unassign_phone_numbers):
        raise Refusal("A number cannot be both assigned and unassigned in one call.")
    target = f"agent {agent_id} version {version}"
    with api_errors(retry_safe=True, not_found="Find numbers with list_phone_numbers."):
        rows = [await services.client.phone_numbers.get(n) for n in [*phone_numbers, *unassign_phone_numbers]]
    lines = [
        f"{row.phone_number} ({_slots(row, direction)}) -> "
        + (target if row.phone_number in phone_numbers else f"unassigned where it is {agent_id}")
        for row in rows[:SHOWN]
    ]
    more = f"\n... and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
    summary = f"Publish {target} for {direction} calls; live calls change at once:\n" + "\n".join(lines) + more
    targets = tuple(number_uri(n) for n in [*phone_numbers, *unassign_phone_numbers])
    return Preview(summary, [row.model_dump(mode="json") for row in rows], targets)


@previewed_by(preview_assign_agent_to_numbers)
async def assign_agent_to_numbers(
    services: Services,
    ctx: Context,
    agent_id: AgentId,
    version: Annotated[int, Field(ge=1)],
    verdict: Verdict,
    phone_numbers: PhoneNumberList = [],  # noqa: B006 - pydantic copies defaults
    unassign_phone_numbers: PhoneNumberList = [],  # noqa: B006
    direction: Direction = "inbound",
    confirmation_token: ConfirmationToken = None,
) -> Gated[list[NumberView]]:
    """Make an agent version answer (inbound) or place (outbound) calls on numbers, or unassign. Gated."""

    async def publish() -> list[NumberView]:
        with api_errors(retry_safe=True, not_found="Check the agent id, version and numbers."):
            rows = await services.client.agents.publish(
                agent_id,
                version,
                phone_numbers=phone_numbers,
                unassign_phone_numbers=unassign_phone_numbers,
                direction=direction,
            )
        return [NumberView.of(row) for row in rows]

    changed = [NUMBERS_URI, *verdict.preview.targets]
    return await services.gatekeeper.run(ctx, verdict, publish, changed=changed)


def _slots(number: PhoneNumber, direction: Direction) -> str:
    slots = {"inbound": number.inbound_agent_version_id, "outbound": number.outbound_agent_version_id}
    chosen = ("inbound", "outbound") if direction == "both" else (direction,)
    return ", ".join(f"{side}: {shown(slots[side]) if slots[side] else 'none'}" for side in chosen)


TOOLS = (assign_agent_to_numbers,)
