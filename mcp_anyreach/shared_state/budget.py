"""The organization's purchase budget: at most `limit` numbers bought in any rolling `window`.

Reserve a slot before buying, release it only when the API certainly refused. A replica that dies
mid-purchase leaves its slot taken: the budget errs towards buying less, never more.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import anyio.to_thread

from mcp_anyreach.shared_state.errors import SharedStateUnavailable
from mcp_anyreach.shared_state.sqlite_file import SqliteFile


class PurchaseBudget(Protocol):
    limit: int
    window_seconds: float

    async def reserve(self, now: float) -> str | None:
        """A reservation id, or None when `limit` purchases already fall within the window (atomically)."""
        ...

    async def release(self, reservation: str) -> None: ...

    async def spent(self, now: float) -> int:
        """Purchases counted in the window that ends at `now`."""
        ...

    async def frees_at(self, now: float) -> float | None:
        """When the oldest purchase in the window that ends at `now` leaves it; None when none is in it."""
        ...


def new_reservation() -> str:
    return secrets.token_urlsafe(12)


class MemoryPurchaseBudget:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._taken: OrderedDict[str, float] = OrderedDict()  # reservation -> when, oldest first
        self._lock = threading.Lock()

    async def reserve(self, now: float) -> str | None:
        with self._lock:
            self._forget_before(now - self.window_seconds)
            if len(self._taken) >= self.limit:
                return None
            reservation = new_reservation()
            self._taken[reservation] = now
            return reservation

    async def release(self, reservation: str) -> None:
        with self._lock:
            self._taken.pop(reservation, None)

    async def spent(self, now: float) -> int:
        with self._lock:
            self._forget_before(now - self.window_seconds)
            return len(self._taken)

    async def frees_at(self, now: float) -> float | None:
        with self._lock:
            self._forget_before(now - self.window_seconds)
            oldest = next(iter(self._taken.values()), None)
            return None if oldest is None else oldest + self.window_seconds

    def _forget_before(self, cutoff: float) -> None:
        while self._taken and next(iter(self._taken.values())) < cutoff:
            self._taken.popitem(last=False)


class SqlitePurchaseBudget:
    """Shared by the replicas of one host through the token store's SQLite file, one budget per `namespace`
    (organization). A purchase recorded before budgets were kept per organization counts against every one."""

    def __init__(
        self, path: Path | SqliteFile, limit: int, window_seconds: float, *, namespace: str = "", timeout: float = 10.0
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._namespace = namespace
        self._file = SqliteFile.of(path, unavailable=SharedStateUnavailable, timeout=timeout)
        with self._file.transaction() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS purchases (reservation TEXT PRIMARY KEY, at REAL NOT NULL, "
                "namespace TEXT NOT NULL DEFAULT '')"
            )
            if "namespace" not in {str(column[1]) for column in db.execute("PRAGMA table_info(purchases)")}:
                db.execute("ALTER TABLE purchases ADD COLUMN namespace TEXT NOT NULL DEFAULT ''")

    async def reserve(self, now: float) -> str | None:
        return await anyio.to_thread.run_sync(self._reserve, now)

    async def release(self, reservation: str) -> None:
        await anyio.to_thread.run_sync(self._release, reservation)

    async def spent(self, now: float) -> int:
        return await anyio.to_thread.run_sync(self._spent, now)

    async def frees_at(self, now: float) -> float | None:
        return await anyio.to_thread.run_sync(self._frees_at, now)

    def _reserve(self, now: float) -> str | None:
        with self._file.transaction() as db:
            db.execute("DELETE FROM purchases WHERE at < ?", (now - self.window_seconds,))
            (count,) = db.execute(
                "SELECT count(*) FROM purchases WHERE namespace IN (?, '')", (self._namespace,)
            ).fetchone()
            if count >= self.limit:
                return None
            reservation = new_reservation()
            db.execute(
                "INSERT INTO purchases (reservation, at, namespace) VALUES (?, ?, ?)",
                (reservation, now, self._namespace),
            )
            return reservation

    def _release(self, reservation: str) -> None:
        with self._file.transaction() as db:
            db.execute("DELETE FROM purchases WHERE reservation = ?", (reservation,))

    def _spent(self, now: float) -> int:
        with self._file.transaction() as db:
            cutoff = now - self.window_seconds
            (count,) = db.execute(
                "SELECT count(*) FROM purchases WHERE at >= ? AND namespace IN (?, '')", (cutoff, self._namespace)
            ).fetchone()
            return int(count)

    def _frees_at(self, now: float) -> float | None:
        with self._file.transaction() as db:
            cutoff = now - self.window_seconds
            (oldest,) = db.execute(
                "SELECT min(at) FROM purchases WHERE at >= ? AND namespace IN (?, '')", (cutoff, self._namespace)
            ).fetchone()
            return None if oldest is None else float(oldest) + self.window_seconds
