"""The dependency container every tool, resource and preview receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.server.agent_names import AgentNames
from mcp_anyreach.server.changes.store import MemoryPlans, PlanStore
from mcp_anyreach.server.gate import Gatekeeper
from mcp_anyreach.server.purchases import ManagedAccount
from mcp_anyreach.server.shared_state.purchases import Purchases
from mcp_anyreach.settings import Settings


@dataclass(frozen=True)
class Services:
    client: AnyreachClient
    settings: Settings
    gatekeeper: Gatekeeper
    sandbox: bool
    purchases: Purchases
    managed_account: ManagedAccount
    agent_names: AgentNames
    plans: PlanStore = field(default_factory=MemoryPlans)  # between plan_changes and apply_changes
