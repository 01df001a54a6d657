"""Agents, their versions, and publishing a version onto numbers."""

from __future__ import annotations

import json
import sqlite3

from mcp_anyreach.sandbox.errors import Invalid, NotFound
from mcp_anyreach.sandbox.schemas import Direction, PhoneNumber
from mcp_anyreach.sandbox.store.db import Database, new_id
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

    def create(self, org_id: str, name: str, versions: int) -> str:
        agent_id = new_id("agt")
        now = self._db.now()
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO agents VALUES (?, ?, ?, ?)", (agent_id, org_id, name, now))
            tx.executemany(
                "INSERT INTO agent_versions VALUES (?, ?, ?, ?)",
                [(new_id("agv"), agent_id, version, now) for version in range(1, versions + 1)],
            )
        return agent_id

    def version_id(self, org_id: str, agent_id: str, version: int) -> str:
        row = self._db.query_one(
            "SELECT v.id FROM agent_versions v JOIN agents a ON a.id = v.agent_id"
            " WHERE a.id = ? AND a.org_id = ? AND v.version = ?",
            (agent_id, org_id, version),
        )
        if row is None:
            raise NotFound(f"Agent {agent_id} has no version {version} in this organization")
        return row["id"]

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
            for slot in _SLOTS[direction]:
                _assign(tx, slot, version_id, assign, now)
                _unassign(tx, slot, agent_id, unassign, now)
            return [_fetch(tx, number) for number in numbers]


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
