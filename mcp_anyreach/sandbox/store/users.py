"""People who hold personal access tokens (pat_…), and the organizations each is a member of."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_anyreach.sandbox.store.db import Database, new_id


@dataclass(frozen=True)
class TokenHolder:
    """Who a personal access token speaks for: the organizations it may name, and what it may do in them."""

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
        """The user's organizations and scopes, for a token of a user (not one stored as an organization's)."""
        row = self._db.query_one("SELECT user_id, scopes FROM personal_tokens WHERE token = ?", (token,))
        if row is None:
            return None
        members = self._db.query("SELECT org_id FROM memberships WHERE user_id = ?", (row["user_id"],))
        return TokenHolder(frozenset(member["org_id"] for member in members), frozenset(row["scopes"].split()))
