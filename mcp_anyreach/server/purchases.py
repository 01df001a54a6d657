"""Spending: the per-process purchase cap, the numbers searches offered, and the managed account to buy through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from mcp_anyreach.api import AnyreachClient, AvailableNumber
from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.refusal import Refusal


@dataclass
class PurchaseGuard:
    """Caps spending per server process and remembers which numbers searches offered."""

    REMEMBERED: ClassVar[int] = 500

    limit: int
    bought: int = 0
    offered: dict[str, AvailableNumber] = field(default_factory=dict[str, AvailableNumber])

    def check(self) -> None:
        if self.bought >= self.limit:
            raise Refusal(
                f"This server has reached its purchase limit ({self.limit} per process); nothing was bought. "
                "An operator can raise it with --max-purchases and restart the server."
            )

    def reserve(self) -> None:
        """Take a purchase slot before anything is awaited, so concurrent purchases cannot pass the cap."""
        self.check()
        self.bought += 1

    def release(self) -> None:
        """Give the slot back: only for a purchase the API certainly refused."""
        self.bought -= 1

    def remember(self, offers: list[AvailableNumber]) -> None:
        self.offered.update((offer.phone_number, offer) for offer in offers)
        while len(self.offered) > self.REMEMBERED:
            del self.offered[next(iter(self.offered))]  # the oldest


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
