"""Prompts a person picks from a menu: an audit walk-through and provisioning a new number."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import AssistantMessage, Message, UserMessage
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, TextContent
from pydantic import Field

from mcp_anyreach.domain.uris import INVENTORY_URI, ROUTING_URI, organization_uri
from mcp_anyreach.server.services import Organizations

AUDIT_STEPS = f"""Audit this organization's Anyreach telephony. Change nothing: use only reads.

1. Read the {INVENTORY_URI} resource. Say whether it is the sandbox (demo data), and summarise the counts: \
numbers, managed and BYOC trunks, numbers per trunk, and the routing state.
2. Call audit_inventory with min_severity "info".
3. Explain the findings grouped by severity (high, then medium, low, info). For each: what it means for \
callers, its subjects (numbers, trunks or routing), and the tool in its `fix` field that would fix it. \
Mention any findings_not_listed counts.
4. End with the three changes you would make first, and why. Do not call any tool that changes \
something; the user decides."""


def _provision_steps(area_code: str, agent_id: str | None) -> str:
    agent = (
        f"assign agent {agent_id} to it"
        if agent_id
        else "call list_agents, then ask me which agent (by name) should answer it, and assign it"
    )
    return f"""Provision a new phone number in area code {area_code}.

1. Call search_available_numbers for area code {area_code}. Show me up to five options (number, locality, \
capabilities, address requirements) and let me choose. If there are none, say so and suggest nearby area codes.
2. Buy only the number I chose with purchase_phone_number. It costs money and asks for confirmation: show me \
its summary and wait for my yes; if it returns confirmation_required, repeat the call with the \
confirmation_token only after I agree.
3. Then {agent} with assign_agent_to_numbers (leave out version to use the agent's latest published one; \
direction inbound unless I say otherwise), again confirming with me.
4. Finally read {ROUTING_URI} or call get_inbound_routing_config and tell me who will answer calls to the new \
number: an enabled routing workflow decides before the number's own agent does."""


def register_prompts(server: MCPServer, *, read_only: bool = False, organizations: Organizations | None = None) -> None:
    """Register the audit_telephony prompt, and provision_number unless the server is read-only.

    A read-only server cannot buy or assign anything, so a prompt telling a model to would only fail. On a server
    of several organizations each prompt asks which one, and its steps act only there.
    """
    if organizations is not None and organizations.several:
        _register_each(server, organizations, read_only=read_only)
        return

    @server.prompt(title="Audit telephony")
    def audit_telephony() -> list[Message]:
        """Walk through the inventory and audit findings, by severity, with the fix for each; changes nothing."""
        return _audit()

    if read_only:
        return

    @server.prompt(title="Provision a number")
    def provision_number(area_code: AreaCode, agent_id: AgentId = None) -> list[Message]:
        """Search an area code, buy the chosen number with confirmation, assign an agent and check routing."""
        return _provision(area_code, agent_id)


def _register_each(server: MCPServer, organizations: Organizations, *, read_only: bool) -> None:
    def served(organization: str) -> str:
        """The id of the organization named: steps naming one this server does not serve would fail at every call."""
        try:
            picked = organizations.pick(organization).organization
        except ToolError as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
        assert picked is not None
        return picked.id

    @server.prompt(title="Audit telephony", description=AUDIT_DESCRIPTION)
    def audit_telephony(organization: Organization) -> list[Message]:
        org_id = served(organization)
        return [_within(organization, org_id, message) for message in _audit()]

    if read_only:
        return

    @server.prompt(title="Provision a number", description=PROVISION_DESCRIPTION)
    def provision_number(organization: Organization, area_code: AreaCode, agent_id: AgentId = None) -> list[Message]:
        org_id = served(organization)
        return [_within(organization, org_id, message) for message in _provision(area_code, agent_id)]


AreaCode = Annotated[str, Field(description="Three-digit US/CA area code, like 415")]
AgentId = Annotated[str | None, Field(description="Agent to answer the new number")]
Organization = Annotated[str, Field(description="Id or name of the organization to work in")]
AUDIT_DESCRIPTION = (
    "Walk through the inventory and audit findings, by severity, with the fix for each; changes nothing."
)
PROVISION_DESCRIPTION = (
    "Search an area code, buy the chosen number with confirmation, assign an agent and check routing."
)


def _audit() -> list[Message]:
    return [
        UserMessage(AUDIT_STEPS),
        AssistantMessage(f"I will start by reading {INVENTORY_URI}, and I will not change anything."),
    ]


def _provision(area_code: str, agent_id: str | None) -> list[Message]:
    digits = "".join(ch for ch in area_code if ch.isdigit())[:3] or area_code.strip()[:8]
    return [UserMessage(_provision_steps(digits, agent_id or None))]


def _within(organization: str, org_id: str, message: Message) -> Message:
    """`message` for one of several organizations: its resources are read under that organization's URIs, and
    every tool is called with it (as the person named it)."""
    assert isinstance(message.content, TextContent)
    # By id, as the notifications of a write name them (a client keeps what it read by URI), and escaped.
    steps = message.content.text.replace("anyreach://", organization_uri(quote(org_id, safe=""), "anyreach://"))
    if isinstance(message, UserMessage):
        steps = (
            f'Work only in organization {organization}: call every tool with organization "{organization}".\n\n{steps}'
        )
    return type(message)(steps)
