"""Agents, their versions, and publishing a version onto numbers."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping
from typing import Any

from mcp_anyreach.sandbox.errors import Invalid, NotFound
from mcp_anyreach.sandbox.schemas import Agent, AgentDetail, AgentVersion, Direction, PhoneNumber
from mcp_anyreach.sandbox.store.db import Database, new_id
from mcp_anyreach.sandbox.store.json_match import canonical_json, where_json_contains
from mcp_anyreach.sandbox.store.paging import ListFilter, Page, Where, select_page
from mcp_anyreach.sandbox.store.phone_numbers import to_phone_number

_INBOUND = "inbound_agent_version_id"
_OUTBOUND = "outbound_agent_version_id"
_SLOTS: dict[Direction, tuple[str, ...]] = {
    "inbound": (_INBOUND,),
    "outbound": (_OUTBOUND,),
    "both": (_INBOUND, _OUTBOUND),
}
# Column names cannot be bound parameters, so each slot has its own fixed statements.
_ASSIGN = {
    _INBOUND: "UPDATE phone_numbers SET inbound_agent_version_id = ?, updated_at = ? WHERE phone_number = ?",
    _OUTBOUND: "UPDATE phone_numbers SET outbound_agent_version_id = ?, updated_at = ? WHERE phone_number = ?",
}
_UNASSIGN = {
    _INBOUND: "UPDATE phone_numbers SET inbound_agent_version_id = NULL, updated_at = ? WHERE phone_number = ?"
    " AND inbound_agent_version_id IN (SELECT id FROM agent_versions WHERE agent_id = ?)",
    _OUTBOUND: "UPDATE phone_numbers SET outbound_agent_version_id = NULL, updated_at = ? WHERE phone_number = ?"
    " AND outbound_agent_version_id IN (SELECT id FROM agent_versions WHERE agent_id = ?)",
}


class Agents:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        org_id: str,
        name: str,
        versions: int,
        *,
        published: Collection[int] = (),
        description: str | None = None,
        active: bool = True,
        is_demo: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """An agent with versions 1..`versions`; those listed in `published` are published, the rest drafts."""
        agent_id = new_id("agt")
        now = self._db.now()
        flags = (int(active), int(is_demo))
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO agents (id, org_id, name, description, active, is_demo, metadata, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (agent_id, org_id, name, description, *flags, canonical_json(dict(metadata or {})), now, now),
            )
            tx.executemany(
                "INSERT INTO agent_versions (id, agent_id, version, published, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (new_id("agv"), agent_id, version, int(version in published), now, now)
                    for version in range(1, versions + 1)
                ],
            )
        return agent_id

    def list(
        self,
        org_id: str,
        page: ListFilter,
        *,
        name: str | None = None,
        active: bool | None = None,
        is_demo: bool | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Page[Agent]:
        where = Where()
        where.add("org_id = ?", org_id)
        if name:
            where.add("instr(lower(name), lower(?)) > 0", name)
        if active is not None:
            where.add("active = ?", int(active))
        if is_demo is not None:
            where.add("is_demo = ?", int(is_demo))
        if metadata:
            where_json_contains(where, "agents.metadata", metadata)
        where.add_time_window(page)
        return select_page(self._db, "agents", where, page, _agent)

    def get(self, org_id: str, agent_id: str) -> AgentDetail:
        agent = _agent(self._require(org_id, agent_id))
        versions = self._db.query("SELECT * FROM agent_versions WHERE agent_id = ? ORDER BY version", (agent_id,))
        # Each slot's index finds the agent's few numbers; `+org_id` keeps SQLite from scanning the organization's
        # whole directory through its org index instead.
        numbers = self._db.query(
            "SELECT * FROM phone_numbers WHERE seq IN ("
            " SELECT seq FROM phone_numbers WHERE inbound_agent_version_id IN"
            " (SELECT id FROM agent_versions WHERE agent_id = ?)"
            " UNION SELECT seq FROM phone_numbers WHERE outbound_agent_version_id IN"
            " (SELECT id FROM agent_versions WHERE agent_id = ?)"
            ") AND +org_id = ? ORDER BY created_at, seq",
            (agent_id, agent_id, org_id),
        )
        return AgentDetail(
            **agent.model_dump(),
            versions=[_version(row) for row in versions],
            phone_numbers=[to_phone_number(row) for row in numbers],
        )

    def versions(
        self,
        org_id: str,
        agent_id: str,
        page: ListFilter,
        *,
        version: int | None = None,
        published: bool | None = None,
    ) -> Page[AgentVersion]:
        self._require(org_id, agent_id)
        where = Where()
        where.add("agent_id = ?", agent_id)
        if version is not None:
            where.add("version = ?", version)
        if published is not None:
            where.add("published = ?", int(published))
        where.add_time_window(page)
        return select_page(self._db, "agent_versions", where, page, _version)

    def version(self, org_id: str, agent_id: str, version: int) -> AgentVersion:
        self._require(org_id, agent_id)
        row = self._db.query_one("SELECT * FROM agent_versions WHERE agent_id = ? AND version = ?", (agent_id, version))
        if row is None:
            raise NotFound(f"Agent {agent_id} has no version {version}")
        return _version(row)

    def latest_draft(self, org_id: str, agent_id: str) -> AgentVersion:
        """The newest draft, created as the next version number when the agent has none (as the vendor's
        `versions/latest` does: a read that can write)."""
        with self._db.transaction() as tx:
            self._require(org_id, agent_id)
            row = tx.execute(
                "SELECT * FROM agent_versions WHERE agent_id = ? AND published = 0 ORDER BY version DESC LIMIT 1",
                (agent_id,),
            ).fetchone()
            if row is None:
                (newest,) = tx.execute(
                    "SELECT coalesce(max(version), 0) FROM agent_versions WHERE agent_id = ?", (agent_id,)
                ).fetchone()
                version_id, now = new_id("agv"), self._db.now()
                tx.execute(
                    "INSERT INTO agent_versions (id, agent_id, version, published, created_at, updated_at)"
                    " VALUES (?, ?, ?, 0, ?, ?)",
                    (version_id, agent_id, newest + 1, now, now),
                )
                row = tx.execute("SELECT * FROM agent_versions WHERE id = ?", (version_id,)).fetchone()
            return _version(row)

    def version_id(self, org_id: str, agent_id: str, version: int) -> str:
        row = self._db.query_one(
            "SELECT v.id FROM agent_versions v JOIN agents a ON a.id = v.agent_id"
            " WHERE a.id = ? AND a.org_id = ? AND v.version = ?",
            (agent_id, org_id, version),
        )
        if row is None:
            raise NotFound(f"Agent {agent_id} has no version {version} in this organization")
        return row["id"]

    def _require(self, org_id: str, agent_id: str) -> sqlite3.Row:
        row = self._db.query_one("SELECT * FROM agents WHERE id = ? AND org_id = ?", (agent_id, org_id))
        if row is None:
            raise NotFound(f"Agent {agent_id} not found in this organization")
        return row

    def publish(
        self,
        org_id: str,
        agent_id: str,
        version: int,
        assign: list[str],
        unassign: list[str],
        direction: Direction,
    ) -> list[PhoneNumber]:
        """Point the chosen slots of ``assign`` at the version and clear this agent's versions from
        ``unassign``; all or nothing."""
        both = sorted(set(assign) & set(unassign))
        if both:
            raise Invalid(("unassign_phone_numbers",), f"{', '.join(both)} cannot be assigned and unassigned at once")
        version_id = self.version_id(org_id, agent_id, version)
        numbers = list(dict.fromkeys([*assign, *unassign]))
        now = self._db.now()
        with self._db.transaction() as tx:
            _require_in_org(tx, org_id, numbers)
            tx.execute(
                "UPDATE agent_versions SET published = 1, updated_at = ? WHERE id = ? AND published = 0",
                (now, version_id),
            )
            for slot in _SLOTS[direction]:
                _assign(tx, slot, version_id, assign, now)
                _unassign(tx, slot, agent_id, unassign, now)
            return [_fetch(tx, number) for number in numbers]


def _agent(row: sqlite3.Row) -> Agent:
    return Agent(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        active=bool(row["active"]),
        is_demo=bool(row["is_demo"]),
        metadata=json.loads(row["metadata"]),
        organization_id=row["org_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _version(row: sqlite3.Row) -> AgentVersion:
    return AgentVersion(
        id=row["id"],
        agent_id=row["agent_id"],
        version=row["version"],
        published=bool(row["published"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _require_in_org(tx: sqlite3.Connection, org_id: str, numbers: list[str]) -> None:
    rows = tx.execute(
        "SELECT phone_number FROM phone_numbers WHERE org_id = ? AND phone_number IN (SELECT value FROM json_each(?))",
        (org_id, json.dumps(numbers)),
    )
    found = {row[0] for row in rows}
    if missing := [number for number in numbers if number not in found]:
        raise NotFound(f"Not in this organization's directory: {', '.join(missing)}; nothing was changed")


def _assign(tx: sqlite3.Connection, slot: str, version_id: str, numbers: list[str], now: str) -> None:
    tx.executemany(
        _ASSIGN[slot],
        [(version_id, now, number) for number in numbers],
    )


def _unassign(tx: sqlite3.Connection, slot: str, agent_id: str, numbers: list[str], now: str) -> None:
    tx.executemany(
        _UNASSIGN[slot],
        [(now, number, agent_id) for number in numbers],
    )


def _fetch(tx: sqlite3.Connection, number: str) -> PhoneNumber:
    return to_phone_number(tx.execute("SELECT * FROM phone_numbers WHERE phone_number = ?", (number,)).fetchone())
