"""People who hold personal access tokens (pat_…), and the organizations each is a member of."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_anyreach.sandbox.store.db import Database, new_id


@dataclass(frozen=True)
class TokenHolder:
    """Who a personal access token speaks for: the organizations it may name, and what it may do in them."""

    token: str
    organization_ids: frozenset[str]
    scopes: frozenset[str]


class Users:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str) -> str:
        user_id = new_id("usr")
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO users VALUES (?, ?, ?)", (user_id, name, self._db.now()))
        return user_id

    def join(self, user_id: str, org_id: str) -> None:
        with self._db.transaction() as tx:
            tx.execute("INSERT OR IGNORE INTO memberships VALUES (?, ?)", (user_id, org_id))

    def add_token(self, user_id: str, token: str, scopes: tuple[str, ...]) -> None:
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO personal_tokens VALUES (?, ?, ?)", (token, user_id, " ".join(scopes)))

    def holder(self, token: str) -> TokenHolder | None:
        row = self._db.query_one("SELECT user_id, scopes FROM personal_tokens WHERE token = ?", (token,))
        if row is not None:
            members = self._db.query("SELECT org_id FROM memberships WHERE user_id = ?", (row["user_id"],))
            return TokenHolder(token, frozenset(member["org_id"] for member in members), _scopes(row["scopes"]))
        # A personal token stored as one organization's credential (the seed's per-organization tokens, and
        # every pat_ of a database written before users existed) belongs to a member of that organization only.
        row = self._db.query_one("SELECT org_id, scopes FROM credentials WHERE token = ?", (token,))
        if row is None:
            return None
        return TokenHolder(token, frozenset((row["org_id"],)), _scopes(row["scopes"]))


def _scopes(stored: str) -> frozenset[str]:
    return frozenset(stored.split())
