"""The dependency container every tool, resource and preview receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.store import MemoryPlans, PlanStore
from mcp_anyreach.changes.undo_store import MemoryUndo, UndoStore
from mcp_anyreach.domain.agent_names import AgentNames
from mcp_anyreach.domain.managed_account import ManagedAccount
from mcp_anyreach.server.gate.gatekeeper import Gatekeeper
from mcp_anyreach.settings import Settings
from mcp_anyreach.shared_state.purchases import Purchases


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
    undo: UndoStore = field(default_factory=MemoryUndo)  # what applied changes replaced, for their undo
