"""SandboxStore: the sandbox's storage on stdlib sqlite3, one namespace per resource, nothing of HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from mcp_anyreach.sandbox.store.agents import Agents
from mcp_anyreach.sandbox.store.db import Database
from mcp_anyreach.sandbox.store.orgs import Credential, Organizations
from mcp_anyreach.sandbox.store.paging import ListFilter, Page
from mcp_anyreach.sandbox.store.phone_numbers import PhoneNumbers
from mcp_anyreach.sandbox.store.purchases import Purchases
from mcp_anyreach.sandbox.store.routing import RoutingConfigs
from mcp_anyreach.sandbox.store.trunks import TrunkRecord, Trunks
from mcp_anyreach.sandbox.store.users import TokenHolder, Users

__all__ = ["Credential", "ListFilter", "Page", "SandboxStore", "TokenHolder", "TrunkRecord"]


class SandboxStore:
    """Operations grouped by resource: ``store.phone_numbers.add(...)``, ``store.trunks.update(...)``…

    Every operation takes the caller's organization id; objects of other organizations are NotFound.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.db = Database(path, clock)
        self.organizations = Organizations(self.db)
        self.users = Users(self.db)
        self.phone_numbers = PhoneNumbers(self.db)
        self.trunks = Trunks(self.db)
        self.purchases = Purchases(self.db, self.organizations, self.phone_numbers)
        self.agents = Agents(self.db)
        self.routing = RoutingConfigs(self.db)

    def bulk_add_numbers(self, org_id: str, trunk_id: str, count: int) -> None:
        self.phone_numbers.bulk_add(org_id, trunk_id, count)

    def close(self) -> None:
        self.db.close()
