"""The agents toolset: which agent version answers (or places) calls on which numbers."""

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from mcp_anyreach.api import PhoneNumber
from mcp_anyreach.server.args import AgentId, ConfirmationToken, PhoneNumberList
from mcp_anyreach.server.confirm import Preview
from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.gate import Verdict
from mcp_anyreach.server.notify import NUMBERS_URI, number_uri
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.views import Gated, NumberView

Direction = Literal["inbound", "outbound", "both"]
SHOWN = 10


def _slots(number: PhoneNumber, direction: Direction) -> str:
    slots = {"inbound": number.inbound_agent_version_id, "outbound": number.outbound_agent_version_id}
    chosen = ("inbound", "outbound") if direction == "both" else (direction,)
    return ", ".join(f"{side}: {slots[side] or 'none'}" for side in chosen)


def agents_tools(services: Services) -> dict[str, Any]:
    client = services.client

    async def fetch(numbers: list[str]) -> list[PhoneNumber]:
        with api_errors(retry_safe=True, not_found="Find numbers with list_phone_numbers."):
            return [await client.phone_numbers.get(n) for n in numbers]

    async def preview_assign(args: Mapping[str, Any]) -> Preview:
        assign: list[str] = args["phone_numbers"]
        unassign: list[str] = args["unassign_phone_numbers"]
        if not assign and not unassign:
            raise ToolError("Give phone_numbers to assign and/or unassign_phone_numbers.")
        if set(assign) & set(unassign):
            raise ToolError("A number cannot be both assigned and unassigned in one call.")
        direction: Direction = args["direction"]
        target = f"agent {args['agent_id']} version {args['version']}"
        rows = await fetch([*assign, *unassign])
        lines = [
            f"{row.phone_number} ({_slots(row, direction)}) -> "
            + (target if row.phone_number in assign else f"unassigned where it is {args['agent_id']}")
            for row in rows[:SHOWN]
        ]
        more = f"\n... and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
        summary = f"Publish {target} for {direction} calls; live calls change at once:\n" + "\n".join(lines) + more
        targets = tuple(number_uri(n) for n in [*assign, *unassign])
        return Preview(summary, [row.model_dump(mode="json") for row in rows], targets)

    assign_gate = services.gatekeeper.gate(
        "assign_agent_to_numbers",
        preview_assign,
        "agent_id",
        "version",
        "phone_numbers",
        "unassign_phone_numbers",
        "direction",
    )

    async def assign_agent_to_numbers(
        ctx: Context,
        agent_id: AgentId,
        version: Annotated[int, Field(ge=1)],
        verdict: Annotated[Verdict, Resolve(assign_gate)],
        phone_numbers: PhoneNumberList = [],  # noqa: B006 - pydantic copies defaults
        unassign_phone_numbers: PhoneNumberList = [],  # noqa: B006
        direction: Direction = "inbound",
        confirmation_token: ConfirmationToken = None,
    ) -> Gated[list[NumberView]]:
        """Make an agent version answer (inbound) or place (outbound) calls on numbers, or unassign. Gated."""

        async def publish() -> list[NumberView]:
            with api_errors(retry_safe=True, not_found="Check the agent id, version and numbers."):
                rows = await client.agents.publish(
                    agent_id,
                    version,
                    phone_numbers=phone_numbers,
                    unassign_phone_numbers=unassign_phone_numbers,
                    direction=direction,
                )
            return [NumberView.of(row) for row in rows]

        changed = [NUMBERS_URI, *verdict.preview.targets]
        return await services.gatekeeper.run(ctx, verdict, publish, changed=changed)

    return {"assign_agent_to_numbers": assign_agent_to_numbers}
