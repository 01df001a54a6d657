"""/core/agents/…/publish: assign an agent version to numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from mcp_anyreach.sandbox.auth import Store, requires
from mcp_anyreach.sandbox.routes import router
from mcp_anyreach.sandbox.schemas import PhoneNumber, Publish, VersionNumber

routes = router("agents")
Manager = Annotated[str, Depends(requires("agents:manage"))]


@routes.post("/agents/{agent_id}/versions/{version}/publish", response_model=list[PhoneNumber])
async def publish_agent_version(
    org_id: Manager, store: Store, agent_id: str, version: Annotated[VersionNumber, Path()], body: Publish
) -> list[PhoneNumber]:
    return store.agents.publish(
        org_id, agent_id, version, body.phone_numbers, body.unassign_phone_numbers, body.direction
    )
