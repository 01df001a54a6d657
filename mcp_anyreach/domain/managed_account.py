"""The managed account that number searches and purchases go through (the budget: shared_state/purchases.py)."""

from __future__ import annotations

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.domain.api_errors import api_errors
from mcp_anyreach.domain.refusal import Refusal


class ManagedAccount:
    """The managed account to search and buy through: configured, or found on the org's managed trunks."""

    def __init__(self, client: AnyreachClient, configured: str | None) -> None:
        self._client = client
        self._id = configured

    async def id(self) -> str:
        if self._id is None:
            self._id = await self._discover()
        return self._id

    async def _discover(self) -> str:
        found: set[str] = set()
        with api_errors(retry_safe=True):
            async for trunk in self._client.trunks.iter():
                if trunk.managed_account_id:
                    found.add(trunk.managed_account_id)
        if len(found) == 1:
            return found.pop()
        reason = "has no managed trunk" if not found else f"has several managed accounts ({', '.join(sorted(found))})"
        raise Refusal(
            f"Cannot tell which managed account to buy through: the organization {reason}. "
            "Set ANYREACH_MANAGED_ACCOUNT_ID to the managed account id and restart the server."
        )
