"""The dependency container every tool, resource and preview receives."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.server.gate import Gatekeeper
from mcp_anyreach.server.purchases import ManagedAccount, PurchaseGuard
from mcp_anyreach.settings import Settings


@dataclass(frozen=True)
class Services:
    client: AnyreachClient
    settings: Settings
    gatekeeper: Gatekeeper
    sandbox: bool
    purchases: PurchaseGuard
    managed_account: ManagedAccount
