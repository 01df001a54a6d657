"""Keyset pagination over (created_at, seq): a deep page costs what the first page costs."""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from mcp_anyreach.sandbox.errors import RuleViolation
from mcp_anyreach.sandbox.store.db import Database, format_timestamp

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class ListFilter:
    """Conditions shared by every list: the time window and the page position."""

    limit: int = 50
    cursor: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None


@dataclass
class Where:
    clauses: list[str] = field(default_factory=list[str])
    params: list[object] = field(default_factory=list[object])

    def add(self, clause: str, *params: object) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def add_time_window(self, window: ListFilter) -> None:
        bounds = (
            ("created_at >", window.created_after),
            ("created_at <", window.created_before),
            ("updated_at >", window.updated_after),
            ("updated_at <", window.updated_before),
        )
        for condition, moment in bounds:
            if moment is not None:
                self.add(f"{condition} ?", format_timestamp(moment))

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


def encode_cursor(created_at: str, seq: int) -> str:
    raw = json.dumps([created_at, seq], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, seq = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise RuleViolation(_BAD_CURSOR) from exc
    # SQLite integers are 64-bit: a larger one would fail inside the query instead of here.
    if not isinstance(created_at, str) or not isinstance(seq, int) or not -(2**63) <= seq < 2**63:
        raise RuleViolation(_BAD_CURSOR)
    return created_at, seq


_BAD_CURSOR = "Invalid cursor; pass the X-Next-Cursor value of the previous page unchanged, or omit it to start over"


def select_page(
    db: Database,
    table: str,
    where: Where,
    page: ListFilter,
    to_item: Callable[[sqlite3.Row], T],
) -> Page[T]:
    """Fetch one row past the limit to learn whether another page exists.

    SQLite uses only the first column of a row-value range ``(created_at, seq) > (?, ?)`` on an index,
    so rows sharing a timestamp would be scanned; two index-friendly arms avoid that.
    """
    fetch = page.limit + 1
    # table and clauses are fixed strings from the repositories; every value is a bound parameter
    query = f"SELECT * FROM {table} WHERE {where.sql()}"  # noqa: S608
    if page.cursor is None:
        rows = db.query(f"{query} ORDER BY created_at, seq LIMIT ?", [*where.params, fetch])
    else:
        created_at, seq = decode_cursor(page.cursor)
        arm = "SELECT * FROM ({query} AND {keyset} ORDER BY created_at, seq LIMIT ?)"
        same_moment = arm.format(query=query, keyset="created_at = ? AND seq > ?")
        later = arm.format(query=query, keyset="created_at > ?")
        rows = db.query(
            f"{same_moment} UNION ALL {later} ORDER BY created_at, seq LIMIT ?",
            [*where.params, created_at, seq, fetch, *where.params, created_at, fetch, fetch],
        )
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["seq"]) if more else None
    return Page([to_item(row) for row in rows], next_cursor)
