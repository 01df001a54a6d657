from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from mcp_anyreach.api._http import HTTPCore, as_list, parse_json, path_segment, unexpected_response, validate
from mcp_anyreach.api.models import PhoneNumber


class Agents:
    """The part of the Agents API that assigns agent versions to phone numbers."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    async def publish(
        self,
        agent_id: str,
        version: int,
        *,
        phone_numbers: Sequence[str] = (),
        unassign_phone_numbers: Sequence[str] = (),
        direction: Literal["inbound", "outbound", "both"] = "inbound",
    ) -> list[PhoneNumber]:
        """Publish a version and point the given numbers' `direction` slots at it; returns those rows."""
        body = {
            "phone_numbers": list(phone_numbers),
            "unassign_phone_numbers": list(unassign_phone_numbers),
            "direction": direction,
        }
        path = f"/core/agents/{path_segment(agent_id)}/versions/{version}/publish"
        response = await self._core.request("POST", path, json=body)
        rows = as_list(parse_json(response), "phone_numbers", "data")
        if rows is None:
            raise unexpected_response(response, "the body holds no list of phone numbers")
        return [validate(response, PhoneNumber, row) for row in rows]
