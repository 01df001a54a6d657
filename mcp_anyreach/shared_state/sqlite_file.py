"""One SQLite file shared by the replicas of one host: one write transaction at a time, waiting its turn."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from pathlib import Path


class SqliteFile:
    """Rollback journal, not WAL (WAL does not work on network filesystems, and switching a file to it
    while another replica opens it fails at once). Every transaction is `BEGIN IMMEDIATE`, which waits
    up to `timeout` for another replica's instead of failing. Any SQLite error in a transaction (locked past
    the timeout, a full disk, a broken file) is raised as `unavailable(message)`: the store's own error,
    which the gate turns into "nothing was done"."""

    def __init__(self, path: Path, *, unavailable: Callable[[str], Exception], timeout: float = 10.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._unavailable = unavailable
        self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()  # one transaction at a time on this connection

    @contextmanager
    def transaction(self) -> Generator[sqlite3.Connection]:
        try:
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
        except sqlite3.Error as exc:
            raise self._unavailable(f"the token store could not be used ({type(exc).__name__}: {exc})") from exc

    @classmethod
    def of(cls, file: Path | SqliteFile, *, unavailable: Callable[[str], Exception], timeout: float) -> SqliteFile:
        """`file` itself when it is open already (one connection shared by a process's stores), else opened."""
        return file if isinstance(file, SqliteFile) else cls(file, unavailable=unavailable, timeout=timeout)

    def close(self) -> None:
        self._db.close()
