"""Organizations, their credentials and their managed accounts."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_anyreach.sandbox.errors import NotFound
from mcp_anyreach.sandbox.store.db import Database, new_id

ALL_SCOPES: tuple[str, ...] = (
    "phone_numbers:read",
    "phone_numbers:manage",
    "managed_accounts:read",
    "managed_accounts:manage",
    "trunks:read",
    "trunks:manage",
    "inbound_routing_configs:read",
    "inbound_routing_configs:manage",
    "agents:read",
    "agents:manage",
)
READ_SCOPES: tuple[str, ...] = tuple(scope for scope in ALL_SCOPES if scope.endswith(":read"))


@dataclass(frozen=True)
class Credential:
    token: str
    organization_id: str
    scopes: frozenset[str]


class Organizations:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str) -> str:
        org_id = new_id("org")
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO organizations VALUES (?, ?, ?)", (org_id, name, self._db.now()))
        return org_id

    def add_credential(self, org_id: str, token: str, scopes: tuple[str, ...]) -> None:
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO credentials VALUES (?, ?, ?)", (token, org_id, " ".join(scopes)))

    def credential(self, token: str) -> Credential | None:
        row = self._db.query_one("SELECT org_id, scopes FROM credentials WHERE token = ?", (token,))
        if row is None:
            return None
        return Credential(token, row["org_id"], frozenset(row["scopes"].split()))

    def add_managed_account(self, org_id: str, name: str) -> str:
        account_id = new_id("ma")
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO managed_accounts VALUES (?, ?, ?, ?)", (account_id, org_id, name, self._db.now()))
        return account_id

    def require_managed_account(self, org_id: str, account_id: str) -> None:
        row = self._db.query_one("SELECT 1 FROM managed_accounts WHERE id = ? AND org_id = ?", (account_id, org_id))
        if row is None:
            raise NotFound(f"Managed account {account_id} not found in this organization")
