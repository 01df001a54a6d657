"""The agents toolset: the agent directory, and which agent version answers (or places) calls on which numbers."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_anyreach.api import AgentDetail, PhoneNumber
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.domain.api_errors import api_errors
from mcp_anyreach.domain.args import AgentId, ConfirmationToken, Cursor, Limit, PhoneNumberList
from mcp_anyreach.domain.records import (
    POSSIBLY_INCOMPLETE,
    AgentDetailView,
    AgentVersionView,
    AgentView,
    Gated,
    Listing,
    NumberView,
    agent_named,
)
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.summaries import switched_off
from mcp_anyreach.domain.text import clipped, named, shown
from mcp_anyreach.domain.uris import NUMBERS_URI, number_uri
from mcp_anyreach.reports.explain import routing_decides
from mcp_anyreach.server.gate.gatekeeper import Verdict
from mcp_anyreach.server.gate.tokens import Preview
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.tools.undoable import run_undoable

Direction = Literal["inbound", "outbound", "both"]
AGENT_NOT_FOUND = "Find agent ids with list_agents."


async def list_agents(
    services: Services,
    name: Annotated[str | None, Field(max_length=128, description="Text the name contains")] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Listing[AgentView]:
    """List agents: id, name, latest published version, how many numbers each answers."""
    with api_errors(retry_safe=True):
        page = await services.client.agents.list(name=name, limit=limit, cursor=cursor)
        details = await services.client.agents.details([agent.id for agent in page.items])
        routing = await services.client.inbound_routing.get()
    views = [_agent_view(details[agent.id]) for agent in page.items if agent.id in details]
    warnings = [POSSIBLY_INCOMPLETE] if page.possibly_incomplete else []
    if routing is not None and routing_decides(routing):
        # The numbers' inbound slots are not consulted while the workflow routes, so no agent "answers" them.
        views = [view.model_copy(update={"answers": None}) for view in views]
        fallback = f"agent {routing.fallback_agent_id}" if routing.fallback_agent_id else "nobody (no fallback agent)"
        warnings.append(
            f"Enabled routing (workflow {routing.workflow_id}) picks the agent for every inbound call, whatever "
            f"the numbers' inbound slots hold; if it fails, {fallback} answers. See get_inbound_routing_config."
        )
    return Listing(items=views, next_cursor=page.next_cursor, warning=" ".join(warnings) or None)


async def get_agent(services: Services, agent_id: AgentId) -> AgentDetailView:
    """Get an agent: its versions (published or draft) and the numbers on its inbound and outbound slots."""
    with api_errors(retry_safe=True, not_found=AGENT_NOT_FOUND):
        agent = await services.client.agents.get(agent_id)
    return AgentDetailView(
        **_agent_view(agent).model_dump(),
        description=agent.description,
        versions=[AgentVersionView(version=v.version, published=v.published) for v in agent.versions],
        inbound_numbers=agent.inbound_numbers,
        outbound_numbers=agent.outbound_numbers,
    )


async def preview_assign_agent_to_numbers(
    services: Services,
    agent_id: str,
    version: int | None,
    phone_numbers: list[str],
    unassign_phone_numbers: list[str],
    direction: Direction,
) -> Preview:
    if not phone_numbers and not unassign_phone_numbers:
        raise Refusal("Give phone_numbers to assign and/or unassign_phone_numbers.")
    if set(phone_numbers) & set(unassign_phone_numbers):
        raise Refusal("A number cannot be both assigned and unassigned in one call.")
    with api_errors(retry_safe=True, not_found=AGENT_NOT_FOUND):
        agents = await services.agent_names.fresh()
    chosen = _published_version(agents, agent_id, version)
    with api_errors(retry_safe=True, not_found="Find numbers with list_phone_numbers."):
        rows = [await services.client.phone_numbers.get(n) for n in [*phone_numbers, *unassign_phone_numbers]]
    name = named(agents.agent(agent_id).name)  # type: ignore[union-attr]  # _published_version checked it exists
    target = f"agent {name!r} ({agent_id}) version {chosen}"
    lines = [
        f"{row.phone_number} ({_slots(agents, row, direction)}) -> "
        + (target if row.phone_number in phone_numbers else f"unassigned where it is {name!r}")
        for row in rows
    ]
    silent = _left_unanswered(agents, rows, agent_id, unassign_phone_numbers, direction)
    impact = f"\n{silent} number(s) will have no inbound agent afterwards." if silent else ""
    if phone_numbers and not agents.agent(agent_id).active:  # type: ignore[union-attr]  # checked above
        impact += f"\n{switched_off(name, agent_id, phone_numbers)}"
    summary = f"Publish {target} for {direction} calls; live calls change at once:\n" + "\n".join(lines) + impact
    targets = tuple(number_uri(n) for n in [*phone_numbers, *unassign_phone_numbers])
    state = {"version": chosen, "rows": [row.model_dump(mode="json") for row in rows]}
    return Preview(summary, state, targets)


async def assign_agent_to_numbers(
    services: Services,
    ctx: Context,
    agent_id: AgentId,
    verdict: Verdict,
    version: Annotated[int | None, Field(ge=1, description="Omit for the latest published")] = None,
    phone_numbers: PhoneNumberList = [],  # noqa: B006 - pydantic copies defaults
    unassign_phone_numbers: PhoneNumberList = [],  # noqa: B006
    direction: Direction = "inbound",
    confirmation_token: ConfirmationToken = None,
) -> Gated[list[NumberView]]:
    """Make an agent (from list_agents) answer (inbound) or place (outbound) calls on numbers, or unassign. Gated."""
    chosen = int(cast(dict[str, Any], verdict.preview.state)["version"])  # what the human was shown

    async def publish() -> list[NumberView]:
        with api_errors(retry_safe=True, not_found="Check the agent id, version and numbers."):
            rows = await services.client.agents.publish(
                agent_id,
                chosen,
                phone_numbers=phone_numbers,
                unassign_phone_numbers=unassign_phone_numbers,
                direction=direction,
            )
        services.agent_names.forget()
        agents = await services.agent_names.directory()
        return [NumberView.of(row, agents) for row in rows]

    from mcp_anyreach.changes.undo import Touched

    changed = [NUMBERS_URI, *verdict.preview.targets]
    touched = Touched(phones=frozenset([*phone_numbers, *unassign_phone_numbers]))
    return await run_undoable(services, ctx, verdict, publish, touched, changed=changed)


def _published_version(agents: AgentDirectory, agent_id: str, version: int | None) -> int:
    """The version to publish: the one asked for, which must exist, or the latest published one."""
    if agents.agent(agent_id) is None:
        raise Refusal(f"There is no agent {agent_id} in this organization. {AGENT_NOT_FOUND}")
    versions = {v.version: v for v in agents.versions_of(agent_id)}
    if version is None:
        latest = agents.latest_published(agent_id)
        if latest is None:
            raise Refusal(f"Agent {agent_id} has no published version yet; publish one in Anyreach, or give version.")
        return latest.version
    if version not in versions:
        raise Refusal(f"Agent {agent_id} has no version {version}; it has {sorted(versions)} (see get_agent).")
    return version


def _left_unanswered(
    agents: AgentDirectory, rows: list[PhoneNumber], agent_id: str, unassign: list[str], direction: Direction
) -> int:
    if direction == "outbound":
        return 0
    own = {v.id for v in agents.versions_of(agent_id)}
    return sum(1 for row in rows if row.phone_number in unassign and row.inbound_agent_version_id in own)


def _slots(agents: AgentDirectory, number: PhoneNumber, direction: Direction) -> str:
    slots = {"inbound": number.inbound_agent_version_id, "outbound": number.outbound_agent_version_id}
    chosen = ("inbound", "outbound") if direction == "both" else (direction,)
    named_slots = (shown(agent_named(agents, vid)) if (vid := slots[side]) else "none" for side in chosen)
    return ", ".join(f"{side}: {slot}" for side, slot in zip(chosen, named_slots, strict=True))


def _agent_view(agent: AgentDetail) -> AgentView:
    latest = agent.latest_published
    return AgentView(
        id=agent.id,
        name=clipped(agent.name),
        active=agent.active,
        latest_published=latest.version if latest else None,
        answers=len(agent.inbound_numbers),
    )
