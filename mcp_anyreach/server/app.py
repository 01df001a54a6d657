"""`build_server`: the MCP server for one organization's telephony, assembled from its parts."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from functools import partial
from types import ModuleType
from typing import Any

from mcp.server import MCPServer
from mcp.server.request_state import RequestStateSecurity

from mcp_anyreach import __version__
from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.domain.agent_names import AgentNames
from mcp_anyreach.domain.managed_account import ManagedAccount
from mcp_anyreach.reports.holdings import holdings
from mcp_anyreach.server.caller import caller_identity
from mcp_anyreach.server.completions import register_completions
from mcp_anyreach.server.gate.audit_log import AuditLog, organization_of
from mcp_anyreach.server.gate.gatekeeper import Gatekeeper
from mcp_anyreach.server.gate.tokens import TokenSigner
from mcp_anyreach.server.http import oauth
from mcp_anyreach.server.prompts import register_prompts
from mcp_anyreach.server.read_only import ReadOnlyServer
from mcp_anyreach.server.registry import ORGANIZATION_SPECS, SPECS, select_tools
from mcp_anyreach.server.resources import register_resources
from mcp_anyreach.server.services import Organizations, Services
from mcp_anyreach.server.tool_factory import find_tools, make_tool, published_schemas
from mcp_anyreach.server.tools import agents, audit, changes, numbers, purchasing, routing, trunks
from mcp_anyreach.server.views import apps_extension, bind_views, offered_views
from mcp_anyreach.settings import Organization, Settings
from mcp_anyreach.shared_state import SharedState, shared_state

logger = logging.getLogger("mcp_anyreach.server")
TOOL_MODULES: dict[str, ModuleType] = {
    module.__name__.rpartition(".")[2]: module
    for module in (numbers, purchasing, trunks, routing, agents, audit, changes)
}
"""Each toolset's module, by toolset: where the registry's rows find their tools and previews."""


def build_server(
    settings: Settings,
    client: AnyreachClient | Mapping[Organization, AnyreachClient],
    *,
    sandbox: bool | None = None,
    clock: Callable[[], float] | None = None,
    input_schemas: Mapping[str, dict[str, Any]] | None = None,
    shared: SharedState | Mapping[Organization, SharedState] | None = None,
    organization: Callable[[], str] | None = None,
) -> MCPServer:
    """An MCP server over `client`. `sandbox` says whether `client` talks to the embedded sandbox.

    `client` may be one client per organization (`cli.backend.connect_all`), and `shared` one state per
    organization: with several, every tool names the organization it acts in. `input_schemas` are the tool
    schemas to publish: by default the ones shipped with the package; for a tool missing from them (`{}`: every
    tool), the schema is derived from its signature. `shared` is the state replicas share (by default the store
    the settings name; its owner closes it). `organization` names the organization in the audit log when the
    client cannot (the embedded sandbox's demo organization).
    """
    services = serving(settings, client, sandbox=sandbox, clock=clock, shared=shared, organization=organization)
    schemas = published_schemas() if input_schemas is None else input_schemas
    units = find_tools(TOOL_MODULES, (*SPECS, *ORGANIZATION_SPECS))
    chosen = select_tools(
        read_only=settings.read_only,
        toolsets=settings.toolsets,
        tools=settings.tools,
        several_organizations=services.several,
    )
    tools = [make_tool(units[spec.name], services, schemas.get(spec.name)) for spec in chosen]
    views = offered_views(tool.name for tool in tools)
    options = oauth.server_options(settings)
    if settings.read_only:
        options["middleware"] = [ReadOnlyServer(), *options.get("middleware", ())]
    server = MCPServer(
        "mcp-anyreach",
        title="Anyreach telephony",
        version=__version__,
        instructions=_instructions(settings, services),
        tools=bind_views(tools, views),
        extensions=[apps_extension(views)],
        request_state_security=_request_state_security(settings),
        **options,
    )
    register_resources(server, services, views=views)
    register_prompts(server, read_only=settings.read_only, organizations=services)
    register_completions(server, services)
    return server


def serving(
    settings: Settings,
    client: AnyreachClient | Mapping[Organization, AnyreachClient],
    *,
    sandbox: bool | None = None,
    clock: Callable[[], float] | None = None,
    shared: SharedState | Mapping[Organization, SharedState] | None = None,
    organization: Callable[[], str] | None = None,
) -> Organizations:
    """The services of each organization `client` names (one client: the one organization)."""
    clients = dict(client) if isinstance(client, Mapping) else {}
    if len(clients) <= 1:
        one = next(iter(clients.values())) if clients else client
        assert isinstance(one, AnyreachClient)
        state = next(iter(shared.values()), None) if isinstance(shared, Mapping) else shared
        return Organizations.of(
            build_services(settings, one, sandbox=sandbox, clock=clock, shared=state, organization=organization)
        )
    states: Mapping[Organization, SharedState] = shared if isinstance(shared, Mapping) else {}
    return Organizations(
        {
            named: build_services(
                settings,
                each,
                sandbox=sandbox,
                clock=clock,
                shared=states.get(named),
                organization=partial(str, named.id),
                named=named,
            )
            for named, each in clients.items()
        }
    )


def build_services(
    settings: Settings,
    client: AnyreachClient,
    *,
    sandbox: bool | None = None,
    clock: Callable[[], float] | None = None,
    shared: SharedState | None = None,
    organization: Callable[[], str] | None = None,
    named: Organization | None = None,
) -> Services:
    """What every tool, resource and preview shares, for these settings and this API client (of the organization
    `named`, on a server of several)."""
    if settings.read_only and not client.read_only:
        raise ValueError("read-only settings need a read-only API client, so that no write can reach the API")
    secret = settings.confirm_secret.get_secret_value().encode() if settings.confirm_secret else secrets.token_bytes(32)
    shared = shared or shared_state(settings, client.organization, **({"clock": clock} if clock else {}))
    signer = TokenSigner(
        secret,
        ttl_seconds=settings.confirm_ttl_seconds,
        used=shared.used_tokens,
        audience=client.identity,
        **({"clock": clock} if clock else {}),
    )
    agent_names = AgentNames(client)
    return Services(
        client=client,
        settings=settings,
        gatekeeper=Gatekeeper(
            signer,
            AuditLog(
                settings.audit_log,
                caller=caller_identity,
                unnamed="stdio" if settings.transport == "stdio" else "http",
                organization=organization or partial(organization_of, client),
            ),
            no_confirm=settings.no_confirm,
            stateless=settings.stateless,
            http=settings.transport != "stdio",
            holdings=partial(holdings, client, agent_names),
        ),
        sandbox=settings.uses_sandbox if sandbox is None else sandbox,
        purchases=shared.purchases,
        plans=shared.plans,
        undo=shared.undo,
        managed_account=ManagedAccount(client, settings.managed_account_id),
        agent_names=agent_names,
        organization=named,
    )


def _request_state_security(settings: Settings) -> RequestStateSecurity | None:
    """With a shared secret, replicas also share the key that seals multi-round (elicitation) state."""
    if settings.confirm_secret is None:
        return None
    key = hmac.new(settings.confirm_secret.get_secret_value().encode(), b"mcp-anyreach/request-state", "sha256")
    return RequestStateSecurity(keys=[key.digest()])


def _instructions(settings: Settings, organizations: Organizations) -> str:
    lines = [
        "Manages Anyreach telephony: the phone-number directory, buying numbers, SIP trunks (BYOC), "
        "agent assignment and the organization's inbound call routing.",
        "Read the anyreach://inventory resource or call audit_inventory for an overview.",
    ]
    if organizations.several:
        named = ", ".join(services.organization.label for services in organizations if services.organization)
        lines[1] = (
            f"It serves several organizations: {named}. Every tool takes `organization` (its id or name) and acts "
            f'only there; audit_inventory with organization "all" audits every one. Nothing is ever carried from '
            "one organization to another."
        )
    if organizations.first.sandbox:
        lines.append("SANDBOX: this server runs on the embedded sandbox with demo data; nothing is real or billed.")
    if settings.read_only:
        lines.append("READ-ONLY: only read tools exist; nothing can be changed through this server.")
    elif not settings.no_confirm:
        lines.append(
            "Buying, deleting, changing trunks, routing or agent assignment needs confirmation: the user is asked, "
            "or the tool returns status confirmation_required with a summary and a confirmation_token. Show the "
            "summary to the user and repeat the call with the token only after they agree."
        )
    return "\n".join(lines)
