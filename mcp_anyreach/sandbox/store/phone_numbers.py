"""The phone-number directory. A number is globally unique: at most one organization holds it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from mcp_anyreach.sandbox.errors import Conflict, NotFound, RuleViolation
from mcp_anyreach.sandbox.schemas import PhoneNumber
from mcp_anyreach.sandbox.store.db import Database
from mcp_anyreach.sandbox.store.paging import ListFilter, Page, Where, select_page
from mcp_anyreach.sandbox.validation import normalize_e164


def to_phone_number(row: sqlite3.Row) -> PhoneNumber:
    return PhoneNumber(
        phone_number=row["phone_number"],
        trunk_id=row["trunk_id"],
        inbound_agent_version_id=row["inbound_agent_version_id"],
        outbound_agent_version_id=row["outbound_agent_version_id"],
        outbound_shareable=bool(row["outbound_shareable"]),
        organization_id=row["org_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def path_number(raw: str) -> str:
    """Numbers arrive in paths encoded or not; a ``+`` decoded to a space by a client is restored."""
    candidate = raw.strip()
    if not candidate.startswith("+"):
        candidate = f"+{candidate}"
    try:
        return normalize_e164(candidate)
    except ValueError:
        return raw


def check_room(tx: sqlite3.Connection, org_id: str, number_limit: int) -> None:
    (count,) = tx.execute("SELECT count(*) FROM phone_numbers WHERE org_id = ?", (org_id,)).fetchone()
    if count >= number_limit:
        raise RuleViolation(
            f"This organization already has {count} numbers, the limit is {number_limit}; delete a number first"
        )


def check_unregistered(tx: sqlite3.Connection, number: str) -> None:
    if tx.execute("SELECT 1 FROM phone_numbers WHERE phone_number = ?", (number,)).fetchone():
        raise Conflict(f"Phone number {number} is already registered")


def insert(tx: sqlite3.Connection, number: str, org_id: str, trunk_id: str, shareable: bool, now: str) -> None:
    tx.execute(
        "INSERT INTO phone_numbers (phone_number, org_id, trunk_id, outbound_shareable, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (number, org_id, trunk_id, int(shareable), now, now),
    )


class PhoneNumbers:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(
        self, org_id: str, page: ListFilter, phone_number: str | None = None, trunk_id: str | None = None
    ) -> Page[PhoneNumber]:
        where = Where()
        where.add("org_id = ?", org_id)
        if trunk_id is not None:
            where.add("trunk_id = ?", trunk_id)
        if phone_number:
            where.add("instr(phone_number, ?) > 0", phone_number)
        where.add_time_window(page)
        return select_page(self._db, "phone_numbers", where, page, to_phone_number)

    def get(self, org_id: str, number: str) -> PhoneNumber:
        number = path_number(number)
        row = self._db.query_one("SELECT * FROM phone_numbers WHERE phone_number = ? AND org_id = ?", (number, org_id))
        if row is None:
            raise NotFound(f"Phone number {number} is not in this organization's directory")
        return to_phone_number(row)

    def add(self, org_id: str, number: str, trunk_id: str, shareable: bool, *, number_limit: int) -> PhoneNumber:
        with self._db.transaction() as tx:
            trunk = tx.execute(
                "SELECT managed_account_id FROM trunks WHERE id = ? AND org_id = ?", (trunk_id, org_id)
            ).fetchone()
            if trunk is None:
                raise NotFound(f"Trunk {trunk_id} not found in this organization")
            if trunk["managed_account_id"] is not None:
                raise RuleViolation(
                    f"Trunk {trunk_id} is managed; register the number on a customer-owned (BYOC) trunk, "
                    "or buy it through the managed account's purchase-number endpoint"
                )
            check_unregistered(tx, number)
            check_room(tx, org_id, number_limit)
            insert(tx, number, org_id, trunk_id, shareable, self._db.now())
        return self.get(org_id, number)

    def set_outbound_shareable(self, org_id: str, number: str, shareable: bool) -> PhoneNumber:
        current = self.get(org_id, number)
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE phone_numbers SET outbound_shareable = ?, updated_at = ? WHERE phone_number = ?",
                (int(shareable), self._db.now(), current.phone_number),
            )
        return self.get(org_id, current.phone_number)

    def delete(self, org_id: str, number: str) -> None:
        current = self.get(org_id, number)
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM phone_numbers WHERE phone_number = ?", (current.phone_number,))

    def bulk_add(self, org_id: str, trunk_id: str, count: int) -> None:
        """Load many synthetic numbers in one transaction, bypassing the per-org limit (for benchmarks)."""
        now = self._db.now()
        with self._db.transaction() as tx:
            taken = {row[0] for row in tx.execute("SELECT phone_number FROM phone_numbers")}
            fresh = (number for number in _synthetic_numbers() if number not in taken)
            rows = ((next(fresh), org_id, trunk_id, 0, now, now) for _ in range(count))
            tx.executemany(
                "INSERT INTO phone_numbers (phone_number, org_id, trunk_id, outbound_shareable,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )


def _synthetic_numbers() -> Iterator[str]:
    """Valid US numbers: real area codes, exchanges 200-999 without N11, every line."""
    for area_code in (201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218):
        for exchange in range(200, 1000):
            if exchange % 100 == 11 or exchange == 555:
                continue
            for line in range(10_000):
                yield f"+1{area_code}{exchange}{line:04d}"
