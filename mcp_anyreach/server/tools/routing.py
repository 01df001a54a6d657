"""The routing toolset: the organization's one inbound-routing config, which picks the agent per call."""

import json
from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from mcp_anyreach.api import InboundRoutingConfig
from mcp_anyreach.server.args import AgentId, ConfirmationToken, Identifier, SmallJson
from mcp_anyreach.server.confirm import Preview
from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.gate import Verdict
from mcp_anyreach.server.notify import ROUTING_URI
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.text import shown
from mcp_anyreach.server.views import Gated, Result, RoutingView

FallbackAgentId = Annotated[AgentId | None, Field(description="Agent that answers when the workflow fails")]
WorkflowId = Identifier | None
WorkflowVersion = Annotated[int | None, Field(ge=1, description="Omit for the latest published")]
WorkflowDefinition = Annotated[SmallJson | None, Field(description="Inline workflow, instead of workflow_id")]
ROUTING_FIELDS: tuple[str, ...] = (
    "workflow_id",
    "workflow_version",
    "workflow_definition",
    "fallback_agent_id",
    "enabled",
)
NO_CONFIG = "There is no routing config; create one with create_inbound_routing_config."
WITHOUT = "Without routing, each number's own inbound agent answers, and numbers without one disconnect."


class RoutingStatus(Result):
    configured: bool
    config: RoutingView | None = None
    behaviour: str


def _describe(config: Mapping[str, Any]) -> str:
    if config.get("enabled") is False:
        return f"routing disabled. {WITHOUT}"
    workflow = shown(config["workflow_id"]) if config.get("workflow_id") else None
    version = shown(config["workflow_version"]) if config.get("workflow_version") else None
    definition = json.dumps(config.get("workflow_definition"), separators=(",", ":"))
    runs = (
        f"workflow {workflow} ({f'version {version}' if version else 'latest version'})"
        if workflow
        else f"the inline workflow {definition[:240]}{'...' if len(definition) > 240 else ''}"
    )
    fallback = shown(config["fallback_agent_id"]) if config.get("fallback_agent_id") else None
    on_failure = f"agent {fallback} answers" if fallback else "the call is disconnected"
    return f"every inbound call runs {runs} to choose the agent; if it fails, {on_failure}"


def _merged(before: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The config after an update: naming one kind of workflow replaces the other."""
    if changes.get("workflow_id") is not None:
        before = {**before, "workflow_definition": None, "workflow_version": None}
    if changes.get("workflow_definition") is not None:
        before = {**before, "workflow_id": None, "workflow_version": None}
    return {**before, **changes}


def routing_tools(services: Services) -> dict[str, Any]:
    client = services.client

    async def current() -> InboundRoutingConfig | None:
        with api_errors(retry_safe=True):
            return await client.inbound_routing.get()

    async def get_inbound_routing_config() -> RoutingStatus:
        """Get the inbound routing: the workflow that picks the agent for each incoming call."""
        config = await current()
        if config is None:
            return RoutingStatus(configured=False, behaviour=WITHOUT)
        return RoutingStatus(configured=True, config=RoutingView.of(config), behaviour=_describe(config.model_dump()))

    def fields(args: Mapping[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in args.items() if value is not None}

    async def preview_create(args: Mapping[str, Any]) -> Preview:
        if (args["workflow_id"] is None) == (args["workflow_definition"] is None):
            raise ToolError("Give exactly one of workflow_id or workflow_definition.")
        if await current() is not None:
            raise ToolError("A routing config exists already; change it with update_inbound_routing_config.")
        summary = f"Create inbound routing: {_describe(args)}. Today: {WITHOUT}"
        return Preview(summary, None, (ROUTING_URI,))

    create_gate = services.gatekeeper.gate("create_inbound_routing_config", preview_create, *ROUTING_FIELDS)

    async def create_inbound_routing_config(
        ctx: Context,
        verdict: Annotated[Verdict, Resolve(create_gate)],
        workflow_id: WorkflowId = None,
        workflow_version: WorkflowVersion = None,
        workflow_definition: WorkflowDefinition = None,
        fallback_agent_id: FallbackAgentId = None,
        enabled: bool = True,
        confirmation_token: ConfirmationToken = None,
    ) -> Gated[RoutingView]:
        """Route every inbound call through a workflow that picks the agent. Gated."""

        async def create() -> RoutingView:
            conflict = "Change the existing one with update_inbound_routing_config."
            with api_errors(retry_safe=False, conflict=conflict):
                return RoutingView.of(await client.inbound_routing.create(**fields(verdict.arguments)))

        return await services.gatekeeper.run(ctx, verdict, create, changed=[ROUTING_URI])

    async def preview_update(args: Mapping[str, Any]) -> Preview:
        config = await current()
        if config is None:
            raise ToolError("There is no routing config yet; create one with create_inbound_routing_config.")
        changes = fields(args)
        if not changes:
            raise ToolError("Nothing to change: give at least one field.")
        if args["workflow_id"] is not None and args["workflow_definition"] is not None:
            raise ToolError("Give workflow_id or workflow_definition, not both.")
        before = config.model_dump()
        after = _merged(before, changes)
        summary = f"Change inbound routing. Now: {_describe(before)}. After: {_describe(after)}."
        return Preview(summary, config.model_dump(mode="json"), (ROUTING_URI,))

    update_gate = services.gatekeeper.gate("update_inbound_routing_config", preview_update, *ROUTING_FIELDS)

    async def update_inbound_routing_config(
        ctx: Context,
        verdict: Annotated[Verdict, Resolve(update_gate)],
        workflow_id: WorkflowId = None,
        workflow_version: WorkflowVersion = None,
        workflow_definition: WorkflowDefinition = None,
        fallback_agent_id: FallbackAgentId = None,
        enabled: bool | None = None,
        confirmation_token: ConfirmationToken = None,
    ) -> Gated[RoutingView]:
        """Change inbound routing; omitted fields stay. Gated."""

        async def update() -> RoutingView:
            with api_errors(retry_safe=True, not_found=NO_CONFIG):
                return RoutingView.of(await client.inbound_routing.update(**fields(verdict.arguments)))

        return await services.gatekeeper.run(ctx, verdict, update, changed=[ROUTING_URI])

    async def preview_delete(args: Mapping[str, Any]) -> Preview:
        config = await current()
        if config is None:
            raise ToolError("There is no routing config to delete.")
        summary = f"Delete inbound routing. Now: {_describe(config.model_dump())}. After: {WITHOUT}"
        return Preview(summary, config.model_dump(mode="json"), (ROUTING_URI,))

    delete_gate = services.gatekeeper.gate("delete_inbound_routing_config", preview_delete)

    async def delete_inbound_routing_config(
        ctx: Context,
        verdict: Annotated[Verdict, Resolve(delete_gate)],
        confirmation_token: ConfirmationToken = None,
    ) -> Gated[str]:
        """Remove inbound routing; numbers fall back to their own agent. Gated."""

        async def delete() -> str:
            with api_errors(retry_safe=True, not_found=NO_CONFIG):
                await client.inbound_routing.delete()
            return "deleted"

        return await services.gatekeeper.run(ctx, verdict, delete, changed=[ROUTING_URI])

    return {
        "get_inbound_routing_config": get_inbound_routing_config,
        "create_inbound_routing_config": create_inbound_routing_config,
        "update_inbound_routing_config": update_inbound_routing_config,
        "delete_inbound_routing_config": delete_inbound_routing_config,
    }
