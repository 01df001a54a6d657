"""The one piece of confirmation state: which tokens were used. Replicas must share it.

In one process the default in-memory record suffices. Replicas (several `--stateless` processes behind a
load balancer) each accept the others' tokens, so they must also share this record, or a token
confirmed on one could be replayed on another once the state it fingerprints looks the same again (a
number bought, released, and offered again). `SqliteUsedTokens` shares it through one SQLite file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import anyio.to_thread


class UsedTokensBusy(Exception):
    """The shared record stayed locked too long; nothing was recorded, so the token is still unused."""


class UsedTokens(Protocol):
    async def claim(self, nonce: str, expires_at: float, now: float) -> bool:
        """Record `nonce` as used; False when it already was (atomically, across everyone sharing it).

        Raises UsedTokensBusy when the record could not be reached in time.
        """
        ...


class MemoryUsedTokens:
    def __init__(self) -> None:
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    async def claim(self, nonce: str, expires_at: float, now: float) -> bool:
        with self._lock:
            self._used = {n: exp for n, exp in self._used.items() if exp >= now}
            if nonce in self._used:
                return False
            self._used[nonce] = expires_at
            return True


class SqliteUsedTokens:
    """Rollback journal, not WAL: turning a file to WAL while another replica opens it fails at once
    ("database is locked") instead of waiting, and WAL does not work on network filesystems. Every
    write is a `BEGIN IMMEDIATE` transaction, which waits its turn (up to `timeout`) instead of failing."""

    def __init__(self, path: Path, *, timeout: float = 10.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()  # one transaction at a time on this connection
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS used_tokens (nonce TEXT PRIMARY KEY, expires_at REAL NOT NULL)")

    async def claim(self, nonce: str, expires_at: float, now: float) -> bool:
        # A thread, because a replica holding the file's lock may keep this waiting.
        return await anyio.to_thread.run_sync(self._claim, nonce, expires_at, now)

    def _claim(self, nonce: str, expires_at: float, now: float) -> bool:
        try:
            with self._transaction() as db:
                db.execute("DELETE FROM used_tokens WHERE expires_at < ?", (now,))
                db.execute("INSERT INTO used_tokens (nonce, expires_at) VALUES (?, ?)", (nonce, expires_at))
        except sqlite3.IntegrityError:
            return False
        except sqlite3.OperationalError as exc:  # locked past the timeout (another replica, a backup)
            raise UsedTokensBusy(str(exc)) from exc
        return True

    @contextmanager
    def _transaction(self) -> Generator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # Also when COMMIT itself failed: a transaction left open would lock every replica out.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
