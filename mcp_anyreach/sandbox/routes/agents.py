"""/core/agents: the agent directory, and publishing a version onto numbers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Response

from mcp_anyreach.sandbox.auth import Store, requires
from mcp_anyreach.sandbox.routes import list_filter, router, set_next_cursor
from mcp_anyreach.sandbox.schemas import (
    Agent,
    AgentDetail,
    AgentListQuery,
    AgentVersion,
    AgentVersionListQuery,
    PhoneNumber,
    Publish,
    VersionNumber,
)

routes = router("agents")
Reader = Annotated[str, Depends(requires("agents:read", "agents:manage"))]
Manager = Annotated[str, Depends(requires("agents:manage"))]


@routes.get("/agents", response_model=list[Agent])
async def list_agents(
    org_id: Reader, store: Store, query: Annotated[AgentListQuery, Query()], response: Response
) -> list[Agent]:
    page = store.agents.list(
        org_id,
        list_filter(query),
        name=query.name,
        active=query.active,
        is_demo=query.is_demo,
        metadata=query.metadata,
    )
    set_next_cursor(response, page.next_cursor)
    return page.items


@routes.get("/agents/{agent_id}", response_model=AgentDetail)
async def get_agent(org_id: Reader, store: Store, agent_id: str) -> AgentDetail:
    return store.agents.get(org_id, agent_id)


@routes.get("/agents/{agent_id}/versions", response_model=list[AgentVersion])
async def list_agent_versions(
    org_id: Reader, store: Store, agent_id: str, query: Annotated[AgentVersionListQuery, Query()], response: Response
) -> list[AgentVersion]:
    page = store.agents.versions(org_id, agent_id, list_filter(query), version=query.version, published=query.published)
    set_next_cursor(response, page.next_cursor)
    return page.items


@routes.get("/agents/{agent_id}/versions/{version}", response_model=AgentVersion)
async def get_agent_version(
    org_id: Reader, store: Store, agent_id: str, version: Annotated[VersionNumber | Literal["latest"], Path()]
) -> AgentVersion:
    """A version by number; `latest` answers the newest draft and, like the vendor's API, creates one when the
    agent has none."""
    if version == "latest":
        return store.agents.latest_draft(org_id, agent_id)
    return store.agents.version(org_id, agent_id, version)


@routes.post("/agents/{agent_id}/versions/{version}/publish", response_model=list[PhoneNumber])
async def publish_agent_version(
    org_id: Manager, store: Store, agent_id: str, version: Annotated[VersionNumber, Path()], body: Publish
) -> list[PhoneNumber]:
    return store.agents.publish(
        org_id, agent_id, version, body.phone_numbers, body.unassign_phone_numbers, body.direction
    )
