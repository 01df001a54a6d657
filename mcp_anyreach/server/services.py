"""What every tool shares: the API client, the gate, the purchase budget."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.gate import Gatekeeper
from mcp_anyreach.server.notify import INVENTORY_URI, NUMBERS_URI, TRUNKS_URI
from mcp_anyreach.server.shared_state.purchases import Purchases
from mcp_anyreach.settings import Settings

logger = logging.getLogger("mcp_anyreach.server")
T = TypeVar("T")
# Lists: a write to one member is recorded against the member's own URI, not the list's.
COLLECTIONS = frozenset({INVENTORY_URI, NUMBERS_URI, TRUNKS_URI})


@dataclass
class Services:
    client: AnyreachClient
    settings: Settings
    gatekeeper: Gatekeeper
    sandbox: bool
    purchases: Purchases
    _managed_account_id: str | None = None

    async def managed_account_id(self) -> str:
        """The managed account to search and buy through: configured, or found on the org's managed trunks."""
        if self._managed_account_id is None:
            self._managed_account_id = self.settings.managed_account_id or await self._discover_managed_account()
        return self._managed_account_id

    async def _discover_managed_account(self) -> str:
        found: set[str] = set()
        with api_errors(retry_safe=True):
            async for trunk in self.client.trunks.iter():
                if trunk.managed_account_id:
                    found.add(trunk.managed_account_id)
        if len(found) == 1:
            return found.pop()
        reason = "has no managed trunk" if not found else f"has several managed accounts ({', '.join(sorted(found))})"
        raise ToolError(
            f"Cannot tell which managed account to buy through: the organization {reason}. "
            "Set ANYREACH_MANAGED_ACCOUNT_ID to the managed account id and restart the server."
        )

    async def write(
        self,
        ctx: Context,
        tool: str,
        arguments: Mapping[str, Any],
        action: Callable[[], Awaitable[T]],
        *,
        changed: Sequence[str] = (),
    ) -> T:
        """Run an ungated write: audited, notified, and recorded as a write to what it changed."""
        targets = [uri for uri in changed if uri not in COLLECTIONS]
        return await self.gatekeeper.act(ctx, tool, arguments, action, changed=changed, targets=targets)
