"""The routing toolset: the organization's one inbound-routing config, which picks the agent per call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_anyreach.api import InboundRoutingConfig
from mcp_anyreach.domain.api_errors import api_errors
from mcp_anyreach.domain.args import AgentId, ConfirmationToken, Identifier, PhoneNumberArg, SmallJson
from mcp_anyreach.domain.records import Gated, Result, RoutingView
from mcp_anyreach.domain.references import name_instead_of_id
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.summaries import WITHOUT_ROUTING, merged_routing, routing_sentence
from mcp_anyreach.domain.uris import ROUTING_URI
from mcp_anyreach.domain.workflows import check_definition, no_fallback_warning, unverified
from mcp_anyreach.reports.explain import CallExplanation
from mcp_anyreach.reports.explain import explain_inbound_call as explain
from mcp_anyreach.server.gate.gatekeeper import Verdict
from mcp_anyreach.server.gate.tokens import Preview
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.tools.undoable import run_undoable

if TYPE_CHECKING:
    from mcp_anyreach.changes.undo import Touched

FallbackAgentId = Annotated[
    AgentId | None, Field(description="Agent (list_agents) that answers when the workflow fails; none to clear")
]
CLEAR = "none"
WorkflowId = Annotated[Identifier | None, Field(description="From the Anyreach workflows; unverifiable here")]
WorkflowVersion = Annotated[int | None, Field(ge=1, description="Omit for the latest published")]
WorkflowDefinition = Annotated[SmallJson | None, Field(description="Inline workflow, instead of workflow_id")]
NO_CONFIG = "There is no routing config; create one with create_inbound_routing_config."


class RoutingOutcome(RoutingView):
    workflow_check: str


def _outcome(config: InboundRoutingConfig) -> RoutingOutcome:
    """The config as stored, saying whether its workflow could be checked (the model must not assume it)."""
    check = unverified(config.model_dump()) or "its output fields match the documented ones"
    return RoutingOutcome(**RoutingView.of(config).model_dump(), workflow_check=check)


def _warned(summary: str, config: Mapping[str, Any]) -> str:
    warning = no_fallback_warning(config)
    return f"{summary}\n{warning}" if warning else summary


class RoutingStatus(Result):
    configured: bool
    config: RoutingView | None = None
    behaviour: str


async def get_inbound_routing_config(services: Services) -> RoutingStatus:
    """Get the inbound routing: the workflow that picks the agent for each incoming call."""
    config = await _current(services)
    if config is None:
        return RoutingStatus(configured=False, behaviour=WITHOUT_ROUTING)
    return RoutingStatus(
        configured=True, config=RoutingView.of(config), behaviour=routing_sentence(config.model_dump(), whole=False)
    )


async def preview_create_inbound_routing_config(
    services: Services,
    workflow_id: str | None,
    workflow_version: int | None,
    workflow_definition: dict[str, Any] | None,
    fallback_agent_id: str | None,
    enabled: bool | None,
) -> Preview:
    fields = _fields(workflow_id, workflow_version, workflow_definition, fallback_agent_id, enabled)
    if (fields["workflow_id"] is None) == (fields["workflow_definition"] is None):
        raise Refusal("Give exactly one of workflow_id or workflow_definition.")
    if workflow_definition is not None:
        check_definition(workflow_definition)
    if await _current(services) is not None:
        raise Refusal("A routing config exists already; change it with update_inbound_routing_config.")
    await _check_fallback(services, fallback_agent_id)
    after = {"enabled": True, **_given(fields)}
    summary = f"Create inbound routing: {routing_sentence(after)}. Today: {WITHOUT_ROUTING}"
    return Preview(_warned(summary, after), None, (ROUTING_URI,))


async def create_inbound_routing_config(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    workflow_id: WorkflowId = None,
    workflow_version: WorkflowVersion = None,
    workflow_definition: WorkflowDefinition = None,
    fallback_agent_id: FallbackAgentId = None,
    enabled: bool = True,
    confirmation_token: ConfirmationToken = None,
) -> Gated[RoutingOutcome]:
    """Route every inbound call through a workflow that picks the agent. Gated."""

    async def create() -> RoutingOutcome:
        conflict = "Change the existing one with update_inbound_routing_config."
        with api_errors(retry_safe=False, conflict=conflict):
            return _outcome(await services.client.inbound_routing.create(**_given(verdict.arguments)))

    return await run_undoable(services, ctx, verdict, create, _touches_routing(), changed=[ROUTING_URI])


async def preview_update_inbound_routing_config(
    services: Services,
    workflow_id: str | None,
    workflow_version: int | None,
    workflow_definition: dict[str, Any] | None,
    fallback_agent_id: str | None,
    enabled: bool | None,
) -> Preview:
    fields = _fields(workflow_id, workflow_version, workflow_definition, fallback_agent_id, enabled)
    config = await _current(services)
    if config is None:
        raise Refusal("There is no routing config yet; create one with create_inbound_routing_config.")
    changes = _given(fields)
    if not changes:
        raise Refusal("Nothing to change: give at least one field.")
    if fields["workflow_id"] is not None and fields["workflow_definition"] is not None:
        raise Refusal("Give workflow_id or workflow_definition, not both.")
    if workflow_definition is not None:
        check_definition(workflow_definition)
    await _check_fallback(services, fallback_agent_id)
    before = config.model_dump()
    after = merged_routing(before, changes)
    summary = f"Change inbound routing. Now: {routing_sentence(before)}. After: {routing_sentence(after)}."
    if before.get("enabled") and after.get("enabled") is False:
        summary += await _left_unanswered(services)
    return Preview(_warned(summary, after), config.model_dump(mode="json"), (ROUTING_URI,))


async def update_inbound_routing_config(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    workflow_id: WorkflowId = None,
    workflow_version: WorkflowVersion = None,
    workflow_definition: WorkflowDefinition = None,
    fallback_agent_id: FallbackAgentId = None,
    enabled: bool | None = None,
    confirmation_token: ConfirmationToken = None,
) -> Gated[RoutingOutcome]:
    """Change inbound routing; omitted fields stay. Gated."""

    async def update() -> RoutingOutcome:
        with api_errors(retry_safe=True, not_found=NO_CONFIG):
            return _outcome(await services.client.inbound_routing.update(**_given(verdict.arguments)))

    return await run_undoable(services, ctx, verdict, update, _touches_routing(), changed=[ROUTING_URI])


async def preview_delete_inbound_routing_config(services: Services) -> Preview:
    config = await _current(services)
    if config is None:
        raise Refusal("There is no routing config to delete.")
    summary = f"Delete inbound routing. Now: {routing_sentence(config.model_dump())}. After: {WITHOUT_ROUTING}"
    if config.enabled:
        summary += await _left_unanswered(services)
    return Preview(summary, config.model_dump(mode="json"), (ROUTING_URI,))


async def delete_inbound_routing_config(
    services: Services, ctx: Context, verdict: Verdict, confirmation_token: ConfirmationToken = None
) -> Gated[str]:
    """Remove inbound routing; numbers fall back to their own agent. Gated."""

    async def delete() -> str:
        with api_errors(retry_safe=True, not_found=NO_CONFIG):
            await services.client.inbound_routing.delete()
        return "deleted"

    return await run_undoable(services, ctx, verdict, delete, _touches_routing(), changed=[ROUTING_URI], read_back=True)


def _touches_routing() -> Touched:
    from mcp_anyreach.changes.undo import Touched

    return Touched(routing=True)


async def _left_unanswered(services: Services) -> str:
    """The impact of routing no longer deciding: numbers without their own inbound agent stop being answered."""
    with api_errors(retry_safe=True):
        silent = [n.phone_number async for n in services.client.phone_numbers.iter() if not n.inbound_agent_version_id]
    if not silent:
        return " Every number has its own inbound agent, so every call is still answered."
    return f" {len(silent)} number(s) have no inbound agent of their own and will have nobody answering."


async def _check_fallback(services: Services, fallback_agent_id: str | None) -> None:
    """Refuse an agent's name given as the fallback: the API would store it as an id no agent has."""
    if fallback_agent_id is None or fallback_agent_id == CLEAR:
        return
    agents = await services.agent_names.directory()
    things = [] if agents is None else [(agent.id, agent.name) for agent in agents.agents]
    if named := name_instead_of_id("agent", "fallback_agent_id", fallback_agent_id, things):
        raise Refusal(named)


async def _current(services: Services) -> InboundRoutingConfig | None:
    with api_errors(retry_safe=True):
        return await services.client.inbound_routing.get()


def _fields(
    workflow_id: str | None,
    workflow_version: int | None,
    workflow_definition: dict[str, Any] | None,
    fallback_agent_id: str | None,
    enabled: bool | None,
) -> dict[str, Any]:
    return {
        "workflow_id": workflow_id,
        "workflow_version": workflow_version,
        "workflow_definition": workflow_definition,
        "fallback_agent_id": fallback_agent_id,
        "enabled": enabled,
    }


def _given(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields to send: those given, with a fallback of "none" sent as null (cleared)."""
    given = {key: value for key, value in fields.items() if value is not None}
    if given.get("fallback_agent_id") == CLEAR:
        given["fallback_agent_id"] = None
    return given


async def explain_inbound_call(
    services: Services, phone_number: PhoneNumberArg, caller_number: PhoneNumberArg | None = None
) -> CallExplanation:
    """Who answers a call to one of our numbers, and why: directory, trunk, routing, agent or drop."""
    with api_errors(retry_safe=True):
        return await explain(services.client, services.agent_names, phone_number, caller_number)
