"""Change-set plans and unfinished moves shared by replicas, so a plan made on one is applied on another.

`SqlitePlans` keeps them in the token store's file (replicas on one host); `RedisPlans` (redis_store.py)
in Redis. A stored plan is its JSON with the moment it expires; it holds no secret (a trunk password is
the name of the environment variable that holds it). Taking a plan reads and removes it in one
transaction, so of two replicas applying it at the same moment exactly one gets it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import anyio.to_thread

from mcp_anyreach.changes.model import MoveIntent, Plan
from mcp_anyreach.changes.store import (
    ANONYMOUS_CALLER,
    MOVE_TTL_SECONDS,
    PLAN_CAPACITY,
    PLAN_TTL_SECONDS,
    PLANS_PER_CALLER,
)
from mcp_anyreach.shared_state.errors import SharedStateUnavailable
from mcp_anyreach.shared_state.sqlite_file import SqliteFile


class SqlitePlans:
    """Plans and unfinished moves in the SQLite file the replicas of one host share (see sqlite_file.py)."""

    def __init__(
        self,
        path: Path | SqliteFile,
        *,
        ttl_seconds: int = PLAN_TTL_SECONDS,
        capacity: int = PLAN_CAPACITY,
        quota: int = PLANS_PER_CALLER,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
        namespace: str = "",
    ) -> None:
        self._namespace = namespace  # the organization: a plan id of another one is not found here
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._quota = quota
        self._clock = clock
        self._file = SqliteFile.of(path, unavailable=SharedStateUnavailable, timeout=timeout)
        with self._file.transaction() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS plans (id TEXT PRIMARY KEY, expires_at REAL NOT NULL, plan TEXT NOT NULL, "
                "owner TEXT NOT NULL DEFAULT '')"
            )
            columns = {str(column[1]) for column in db.execute("PRAGMA table_info(plans)")}
            if "owner" not in columns:
                db.execute("ALTER TABLE plans ADD COLUMN owner TEXT NOT NULL DEFAULT ''")  # a file from before quotas
            if "namespace" not in columns:
                db.execute("ALTER TABLE plans ADD COLUMN namespace TEXT NOT NULL DEFAULT ''")
            db.execute(
                "CREATE TABLE IF NOT EXISTS unfinished_moves "
                "(phone_number TEXT PRIMARY KEY, expires_at REAL NOT NULL, intent TEXT NOT NULL)"
            )

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    # Threads, because a replica holding the file's lock may keep these waiting.
    async def save(self, plan: Plan, owner: str = ANONYMOUS_CALLER) -> None:
        await anyio.to_thread.run_sync(self._save, plan.id, plan.model_dump_json(), owner, self._clock())

    async def load(self, plan_id: str) -> Plan | None:
        found = await anyio.to_thread.run_sync(self._load, plan_id, self._clock())
        return None if found is None else Plan.model_validate_json(found)

    async def take(self, plan_id: str) -> Plan | None:
        found = await anyio.to_thread.run_sync(self._take, plan_id, self._clock())
        return None if found is None else Plan.model_validate_json(found)

    async def remember_moves(self, moves: Mapping[str, MoveIntent]) -> None:
        rows = [(phone, intent.model_dump_json()) for phone, intent in moves.items()]
        await anyio.to_thread.run_sync(self._remember_moves, rows, self._clock())

    async def moves(self) -> dict[str, MoveIntent]:
        rows = await anyio.to_thread.run_sync(self._moves, self._clock())
        return {phone: MoveIntent.model_validate_json(intent) for phone, intent in rows}

    async def forget_moves(self, phone_numbers: Iterable[str]) -> None:
        await anyio.to_thread.run_sync(self._forget_moves, list(phone_numbers))

    def _save(self, plan_id: str, plan: str, owner: str, now: float) -> None:
        with self._file.transaction() as db:
            db.execute("DELETE FROM plans WHERE expires_at < ?", (now,))
            db.execute(
                "INSERT OR REPLACE INTO plans (id, expires_at, plan, owner, namespace) VALUES (?, ?, ?, ?, ?)",
                (plan_id, now + self._ttl, plan, owner, self._namespace),
            )
            db.execute(
                "DELETE FROM plans WHERE owner = ? AND id NOT IN "
                "(SELECT id FROM plans WHERE owner = ? ORDER BY expires_at DESC, rowid DESC LIMIT ?)",
                (owner, owner, self._quota),
            )
            db.execute(
                "DELETE FROM plans WHERE id NOT IN (SELECT id FROM plans ORDER BY expires_at DESC, rowid DESC LIMIT ?)",
                (self._capacity,),
            )

    def _load(self, plan_id: str, now: float) -> str | None:
        with self._file.transaction() as db:
            row = db.execute(
                "SELECT plan FROM plans WHERE id = ? AND namespace = ? AND expires_at >= ?",
                (plan_id, self._namespace, now),
            ).fetchone()
            return None if row is None else str(row[0])

    def _take(self, plan_id: str, now: float) -> str | None:
        # One immediate transaction: another replica taking the same plan waits, then finds it gone.
        with self._file.transaction() as db:
            ours = (plan_id, self._namespace)
            row = db.execute("SELECT plan, expires_at FROM plans WHERE id = ? AND namespace = ?", ours).fetchone()
            db.execute("DELETE FROM plans WHERE id = ? AND namespace = ?", ours)
            return None if row is None or row[1] < now else str(row[0])

    def _remember_moves(self, rows: list[tuple[str, str]], now: float) -> None:
        with self._file.transaction() as db:
            db.execute("DELETE FROM unfinished_moves WHERE expires_at < ?", (now,))
            db.executemany(
                "INSERT OR REPLACE INTO unfinished_moves (phone_number, expires_at, intent) VALUES (?, ?, ?)",
                [(phone, now + MOVE_TTL_SECONDS, intent) for phone, intent in rows],
            )

    def _moves(self, now: float) -> list[tuple[str, str]]:
        with self._file.transaction() as db:
            found = db.execute("SELECT phone_number, intent FROM unfinished_moves WHERE expires_at >= ?", (now,))
            return [(str(phone), str(intent)) for phone, intent in found.fetchall()]

    def _forget_moves(self, phone_numbers: list[str]) -> None:
        with self._file.transaction() as db:
            db.executemany("DELETE FROM unfinished_moves WHERE phone_number = ?", [(p,) for p in phone_numbers])
