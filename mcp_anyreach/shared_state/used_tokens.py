"""The one piece of confirmation state: which tokens were used, how each first use ended, and when each target
was last written.

In one process the default in-memory record suffices. Replicas (several processes sharing the
confirmation secret) each accept the others' tokens, so they must also share this record, or a token
confirmed on one could be replayed on another. `SqliteUsedTokens` shares it through one SQLite file.

A token's first use is `running` from its claim until the gate settles it: `done` with its outcome (the result the
caller was given, secret-free JSON), or `failed`. A client that lost its connection repeats the same call; the gate
answers a `done` token from its outcome instead of writing twice. The outcome lives as long as the used token.

The write times let a token be refused when what it touches was changed by anyone else after its
preview, even when the state looks the same again (a number bought, released and offered again; a
routing config created and deleted).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import anyio.to_thread

from mcp_anyreach.shared_state.sqlite_file import SqliteFile

Claim = Literal["fresh", "used", "stale"]


@dataclass(frozen=True, slots=True)
class FirstUse:
    """How a used token's first use ended: still `running` (or its server stopped before saying), `failed`, or
    `done` with its `outcome` as the gate stored it."""

    state: Literal["running", "failed", "done"]
    outcome: str = ""


RUNNING = FirstUse("running")


class UsedTokensBusy(Exception):
    """The shared record could not be reached in time; nothing was recorded, so the token is still unused."""


class UsedTokens(Protocol):
    async def first_use(self, nonce: str, now: float) -> FirstUse | None:
        """How the first use of `nonce` went, or None when it was not claimed or has expired."""
        ...

    async def claim(
        self, nonce: str, expires_at: float, now: float, *, targets: Sequence[str] = (), minted_at: float = 0.0
    ) -> Claim:
        """Atomically, across everyone sharing the record: "used" when `nonce` already was; "stale" when a
        target was written by another writer after `minted_at`; otherwise record `nonce` as used and the
        targets as written by it now, and answer "fresh".

        Raises UsedTokensBusy when the record could not be reached in time.
        """
        ...

    async def touch(self, targets: Sequence[str], now: float, keep_until: float) -> None:
        """Record that `targets` are being written now by something other than a token."""
        ...

    async def settle(self, nonce: str, outcome: str | None, *, expires_at: float, now: float) -> None:
        """Record how the claimed `nonce`'s use ended, until `expires_at`: done with `outcome`, or failed (None)."""
        ...


def settled(outcome: str | None) -> FirstUse:
    return FirstUse("failed") if outcome is None else FirstUse("done", outcome)


class MemoryUsedTokens:
    def __init__(self) -> None:
        self._used: dict[str, float] = {}
        self._settled: dict[str, FirstUse] = {}
        self._writes: dict[str, tuple[float, str, float]] = {}  # target -> (written at, writer, keep until)
        self._lock = threading.Lock()

    async def first_use(self, nonce: str, now: float) -> FirstUse | None:
        with self._lock:
            return self._settled.get(nonce, RUNNING) if self._used.get(nonce, -1.0) >= now else None

    async def claim(
        self, nonce: str, expires_at: float, now: float, *, targets: Sequence[str] = (), minted_at: float = 0.0
    ) -> Claim:
        with self._lock:
            self._forget(now)
            if nonce in self._used:
                return "used"
            if any(self._written_after(target, minted_at, nonce) for target in targets):
                return "stale"
            self._used[nonce] = expires_at
            for target in targets:
                self._writes[target] = (now, nonce, expires_at)
            return "fresh"

    async def touch(self, targets: Sequence[str], now: float, keep_until: float) -> None:
        with self._lock:
            self._forget(now)
            for target in targets:
                self._writes[target] = (now, "", keep_until)

    async def settle(self, nonce: str, outcome: str | None, *, expires_at: float, now: float) -> None:
        with self._lock:
            if nonce in self._used:
                self._settled[nonce] = settled(outcome)

    def _written_after(self, target: str, minted_at: float, nonce: str) -> bool:
        written = self._writes.get(target)
        return written is not None and written[0] >= minted_at and written[1] != nonce

    def _forget(self, now: float) -> None:
        self._used = {n: exp for n, exp in self._used.items() if exp >= now}
        self._settled = {n: use for n, use in self._settled.items() if n in self._used}
        self._writes = {t: w for t, w in self._writes.items() if w[2] >= now}


class SqliteUsedTokens:
    """The record in one SQLite file that the replicas of one host share (see sqlite_file.py)."""

    def __init__(self, path: Path | SqliteFile, *, timeout: float = 10.0, namespace: str = "") -> None:
        self._file = SqliteFile.of(path, unavailable=UsedTokensBusy, timeout=timeout)
        # Organizations sharing the file have the same URIs (the routing config's above all): a write in one must
        # not refuse another's token as stale. A row without a namespace was written before there were any.
        self._namespace = namespace
        with self._file.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS used_tokens (nonce TEXT PRIMARY KEY, expires_at REAL NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS writes (target TEXT PRIMARY KEY, written_at REAL NOT NULL, "
                "writer TEXT NOT NULL, keep_until REAL NOT NULL)"
            )
            # A table of its own, so a file that older replicas still share needs no migration.
            db.execute(
                "CREATE TABLE IF NOT EXISTS token_outcomes (nonce TEXT PRIMARY KEY, state TEXT NOT NULL, "
                "outcome TEXT NOT NULL, expires_at REAL NOT NULL)"
            )

    # Threads, because a replica holding the file's lock may keep these waiting.
    async def first_use(self, nonce: str, now: float) -> FirstUse | None:
        return await anyio.to_thread.run_sync(self._first_use, nonce, now)

    async def claim(
        self, nonce: str, expires_at: float, now: float, *, targets: Sequence[str] = (), minted_at: float = 0.0
    ) -> Claim:
        return await anyio.to_thread.run_sync(lambda: self._claim(nonce, expires_at, now, targets, minted_at))

    async def touch(self, targets: Sequence[str], now: float, keep_until: float) -> None:
        await anyio.to_thread.run_sync(self._touch, targets, now, keep_until)

    async def settle(self, nonce: str, outcome: str | None, *, expires_at: float, now: float) -> None:
        await anyio.to_thread.run_sync(self._settle, nonce, settled(outcome), expires_at)

    def _first_use(self, nonce: str, now: float) -> FirstUse | None:
        with self._file.transaction() as db:
            row = db.execute(
                "SELECT o.state, o.outcome FROM used_tokens u LEFT JOIN token_outcomes o ON o.nonce = u.nonce "
                "WHERE u.nonce = ? AND u.expires_at >= ?",
                (nonce, now),
            ).fetchone()
        if row is None:
            return None
        state, outcome = row
        return RUNNING if state is None else FirstUse(state, outcome)

    def _settle(self, nonce: str, use: FirstUse, expires_at: float) -> None:
        with self._file.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO token_outcomes (nonce, state, outcome, expires_at) VALUES (?, ?, ?, ?)",
                (nonce, use.state, use.outcome, expires_at),
            )

    def _claim(self, nonce: str, expires_at: float, now: float, targets: Sequence[str], minted_at: float) -> Claim:
        with self._file.transaction() as db:
            self._forget(db, now)
            if db.execute("SELECT 1 FROM used_tokens WHERE nonce = ?", (nonce,)).fetchone():
                return "used"
            for target in targets:
                written = db.execute(
                    "SELECT 1 FROM writes WHERE target IN (?, ?) AND written_at >= ? AND writer != ?",
                    (self._key(target), target, minted_at, nonce),
                )
                if written.fetchone():
                    return "stale"
            db.execute("INSERT INTO used_tokens (nonce, expires_at) VALUES (?, ?)", (nonce, expires_at))
            self._write(db, [self._key(target) for target in targets], now, nonce, expires_at)
            return "fresh"

    def _touch(self, targets: Sequence[str], now: float, keep_until: float) -> None:
        with self._file.transaction() as db:
            self._forget(db, now)
            self._write(db, [self._key(target) for target in targets], now, "", keep_until)

    def _key(self, target: str) -> str:
        return f"{self._namespace} {target}" if self._namespace else target

    @staticmethod
    def _write(db: sqlite3.Connection, targets: Sequence[str], now: float, writer: str, keep_until: float) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO writes (target, written_at, writer, keep_until) VALUES (?, ?, ?, ?)",
            [(target, now, writer, keep_until) for target in targets],
        )

    @staticmethod
    def _forget(db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM used_tokens WHERE expires_at < ?", (now,))
        db.execute("DELETE FROM token_outcomes WHERE expires_at < ?", (now,))
        db.execute("DELETE FROM writes WHERE keep_until < ?", (now,))
