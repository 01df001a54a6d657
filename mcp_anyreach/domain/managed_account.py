"""The managed account that number searches and purchases go through (the budget: shared_state/purchases.py).

The server and `mcp-anyreach doctor` find it the same way, here: on the organization's managed trunks.
"""

from __future__ import annotations

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.domain.api_errors import api_errors
from mcp_anyreach.domain.refusal import Refusal


class NoSingleManagedAccount(Refusal):
    """The managed trunks name no managed account, or several (`found`), so none can be chosen."""

    def __init__(self, found: frozenset[str]) -> None:
        self.found = found
        reason = "has no managed trunk" if not found else f"has several managed accounts ({', '.join(sorted(found))})"
        super().__init__(
            f"Cannot tell which managed account to buy through: the organization {reason}. "
            "Set ANYREACH_MANAGED_ACCOUNT_ID to the managed account id and restart the server."
        )


async def discover_managed_account(client: AnyreachClient) -> str:
    """The one managed account the organization's managed trunks belong to.

    Raises NoSingleManagedAccount when there is none or more than one, and the client's AnyreachError when
    the trunks cannot be listed.
    """
    found = {trunk.managed_account_id async for trunk in client.trunks.iter() if trunk.managed_account_id}
    if len(found) == 1:
        return found.pop()
    raise NoSingleManagedAccount(frozenset(found))


class ManagedAccount:
    """The managed account to search and buy through: configured, or found on the org's managed trunks."""

    def __init__(self, client: AnyreachClient, configured: str | None) -> None:
        self._client = client
        self._id = configured

    async def id(self) -> str:
        if self._id is None:
            with api_errors(retry_safe=True):
                self._id = await discover_managed_account(self._client)
        return self._id
