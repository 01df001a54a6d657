"""Undo records in the token store's file, shared by the replicas of one host (Redis: redis_store.py).

Each row is keyed by the organization's namespace and the record's id, so organizations sharing one file never
find each other's records; it expires `UNDO_TTL_SECONDS` after it was kept (its `expires_at` column), and
expired rows are dropped as new ones come. A record holds no secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import anyio.to_thread

from mcp_anyreach.changes.undo_store import UNDO_TTL_SECONDS, UNDO_TTL_TEXT, UndoRecord
from mcp_anyreach.shared_state.errors import SharedStateUnavailable
from mcp_anyreach.shared_state.sqlite_file import SqliteFile


class SqliteUndo:
    def __init__(
        self,
        path: Path | SqliteFile,
        namespace: str,
        *,
        ttl_seconds: int = UNDO_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self._namespace = namespace
        self._ttl = ttl_seconds
        self._clock = clock
        self._file = SqliteFile.of(path, unavailable=SharedStateUnavailable, timeout=timeout)
        with self._file.transaction() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS undo_records (namespace TEXT NOT NULL, id TEXT NOT NULL, "
                "expires_at REAL NOT NULL, record TEXT NOT NULL, PRIMARY KEY (namespace, id))"
            )

    @property
    def lasts(self) -> str:
        return UNDO_TTL_TEXT

    async def save(self, record: UndoRecord) -> UndoRecord:
        now = self._clock()
        kept = record.model_copy(update={"expires_at": now + self._ttl})
        await anyio.to_thread.run_sync(self._save, kept, now)
        return kept

    async def load(self, undo_id: str) -> UndoRecord | None:
        found = await anyio.to_thread.run_sync(self._load, undo_id, self._clock())
        return None if found is None else UndoRecord.model_validate_json(found)

    def _save(self, record: UndoRecord, now: float) -> None:
        with self._file.transaction() as db:
            db.execute("DELETE FROM undo_records WHERE expires_at < ?", (now,))
            db.execute(
                "INSERT OR REPLACE INTO undo_records (namespace, id, expires_at, record) VALUES (?, ?, ?, ?)",
                (self._namespace, record.id, record.expires_at, record.model_dump_json()),
            )

    def _load(self, undo_id: str, now: float) -> str | None:
        with self._file.transaction() as db:
            row = db.execute(
                "SELECT record FROM undo_records WHERE namespace = ? AND id = ? AND expires_at >= ?",
                (self._namespace, undo_id, now),
            ).fetchone()
            return None if row is None else str(row[0])
