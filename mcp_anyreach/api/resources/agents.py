from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, Unpack, cast

import anyio

from mcp_anyreach.api._http import (
    HTTPCore,
    as_list,
    parse_json,
    parse_model,
    parse_record,
    path_segment,
    unexpected_response,
    validate,
)
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.api.errors import AnyreachError, NotFoundError
from mcp_anyreach.api.filters import Timestamps, check_filters, query
from mcp_anyreach.api.models import Agent, AgentDetail, AgentVersion, Page, PhoneNumber
from mcp_anyreach.api.pagination import fetch_page, iterate_pages

PATH = "/core/agents"


class AgentFilters(Timestamps, total=False):
    """What `Agents.list` and `Agents.iter` filter on: `name` matches a case-insensitive substring, `metadata`
    the agents whose metadata has each given key with an equal value."""

    name: str | None
    active: bool | None
    is_demo: bool | None
    metadata: Mapping[str, Any] | None


class VersionFilters(Timestamps, total=False):
    """What `Agents.versions` and `Agents.iter_versions` filter on."""

    version: int | None
    published: bool | None


def agent_path(agent_id: str) -> str:
    return f"{PATH}/{path_segment(agent_id)}"


def _version_number(version: int) -> int:
    """Refuse anything but a version number: the API's `latest` creates a draft, so no read may send it."""
    candidate = cast(object, version)  # callers may pass anything at run time, "latest" included
    if isinstance(candidate, bool) or not isinstance(candidate, int) or candidate < 1:
        raise ValueError(
            f"an agent version is a number from 1, not {version!r} "
            "(this client never asks for 'latest', which creates a draft)"
        )
    return candidate


class Agents:
    """The agent directory (reads) and the publish endpoint that assigns agent versions to phone numbers.

    The API's `GET /core/agents/{id}/versions/latest` creates a draft when none exists, so this client has no
    method that sends it: every read here leaves the organization's agents as they were.
    """

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    async def list(
        self, *, limit: int | None = None, cursor: str | None = None, **filters: Unpack[AgentFilters]
    ) -> Page[Agent]:
        """One page of agents, oldest first."""
        params = query(AgentFilters, filters, "Agents.list", limit=limit, cursor=cursor)
        return await fetch_page(self._core, PATH, params, Agent)

    def iter(self, *, page_size: int = 100, **filters: Unpack[AgentFilters]) -> AsyncIterator[Agent]:
        """Every matching agent, fetched lazily page by page."""
        check_filters(AgentFilters, filters, "Agents.iter")
        return iterate_pages(lambda cursor: self.list(limit=page_size, cursor=cursor, **filters), "agents")

    async def get(self, agent_id: str) -> AgentDetail:
        """One agent with its versions and the numbers that have one of them on the inbound or outbound slot."""
        response = await self._core.request("GET", agent_path(agent_id))
        return parse_record(response, AgentDetail, "id", agent_id)

    async def versions(
        self,
        agent_id: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Unpack[VersionFilters],
    ) -> Page[AgentVersion]:
        """One page of the agent's versions, oldest first."""
        params = query(VersionFilters, filters, "Agents.versions", limit=limit, cursor=cursor)
        return await fetch_page(self._core, f"{agent_path(agent_id)}/versions", params, AgentVersion)

    def iter_versions(
        self, agent_id: str, *, page_size: int = 100, **filters: Unpack[VersionFilters]
    ) -> AsyncIterator[AgentVersion]:
        """Every matching version of the agent, fetched lazily page by page."""
        check_filters(VersionFilters, filters, "Agents.iter_versions")
        return iterate_pages(
            lambda cursor: self.versions(agent_id, limit=page_size, cursor=cursor, **filters),
            f"versions of agent {agent_id}",
        )

    async def version(self, agent_id: str, version: int) -> AgentVersion:
        """One version by number (never `latest`, which would create a draft)."""
        path = f"{agent_path(agent_id)}/versions/{_version_number(version)}"
        response = await self._core.request("GET", path)
        return parse_model(response, AgentVersion)

    async def directory(self, *, concurrency: int = 4) -> AgentDirectory:
        """Every agent and all its versions, for naming the `agv_…` ids on many numbers at once.

        Costs one request per page of agents plus one per agent (its versions), `concurrency` at a time. An
        agent deleted between the two steps is left out.
        """
        agents = [agent async for agent in self.iter()]
        versions: dict[str, list[AgentVersion]] = {}

        async def load(agent_id: str) -> None:
            versions[agent_id] = [version async for version in self.iter_versions(agent_id)]

        await _each([agent.id for agent in agents], load, concurrency)
        return AgentDirectory([agent for agent in agents if agent.id in versions], versions)

    async def details(self, agent_ids: Sequence[str], *, concurrency: int = 4) -> dict[str, AgentDetail]:
        """Each agent by id, `concurrency` requests at a time; an agent deleted meanwhile is left out."""
        found: dict[str, AgentDetail] = {}

        async def load(agent_id: str) -> None:
            found[agent_id] = await self.get(agent_id)

        await _each(agent_ids, load, concurrency)
        return found

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
        path = f"{agent_path(agent_id)}/versions/{version}/publish"
        response = await self._core.request("POST", path, json=body)
        rows = as_list(parse_json(response), "phone_numbers", "data")
        if rows is None:
            raise unexpected_response(response, "the body holds no list of phone numbers")
        return [validate(response, PhoneNumber, row) for row in rows]


async def _each(ids: Sequence[str], load: Callable[[str], Awaitable[None]], concurrency: int) -> None:
    """`load` for every id, `concurrency` at a time; an id gone meanwhile (404) is skipped, and the first
    other failure is raised alone, as an AnyreachError rather than a task group's exception group."""
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(item_id: str) -> None:
        async with limiter:
            with contextlib.suppress(NotFoundError):
                await load(item_id)

    try:
        async with anyio.create_task_group() as group:
            for item_id in ids:
                group.start_soon(one, item_id)
    except* AnyreachError as failures:
        raise _first(failures) from None


def _first(failures: BaseExceptionGroup[AnyreachError]) -> AnyreachError:
    """Callers handle one AnyreachError; a task group reports its failures as a group."""
    first = failures.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first
