"""The sqlite3 connection, its schema, the clock and transactions shared by every repository."""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from mcp_anyreach.sandbox.errors import StorageLost

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS credentials (
    token TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), scopes TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memberships (
    user_id TEXT NOT NULL REFERENCES users(id), org_id TEXT NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (user_id, org_id)
);
CREATE TABLE IF NOT EXISTS personal_tokens (
    token TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), scopes TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS managed_accounts (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trunks (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL, managed_account_id TEXT REFERENCES managed_accounts(id),
    inbound_config TEXT, outbound_config TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trunks_by_org_created ON trunks (org_id, created_at, seq);
CREATE TABLE IF NOT EXISTS phone_numbers (
    seq INTEGER PRIMARY KEY, phone_number TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id), trunk_id TEXT NOT NULL REFERENCES trunks(id),
    inbound_agent_version_id TEXT, outbound_agent_version_id TEXT, outbound_shareable INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS phone_numbers_by_org_created ON phone_numbers (org_id, created_at, seq);
CREATE INDEX IF NOT EXISTS phone_numbers_by_trunk_created ON phone_numbers (org_id, trunk_id, created_at, seq);
CREATE INDEX IF NOT EXISTS phone_numbers_by_inbound_version ON phone_numbers (inbound_agent_version_id);
CREATE INDEX IF NOT EXISTS phone_numbers_by_outbound_version ON phone_numbers (outbound_agent_version_id);
CREATE TABLE IF NOT EXISTS inbound_routing_configs (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id), id TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL,
    workflow_id TEXT, workflow_version INTEGER, workflow_definition TEXT, fallback_agent_id TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
"""
AGENT_TABLES = """
CREATE TABLE IF NOT EXISTS agents (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL, description TEXT, active INTEGER NOT NULL DEFAULT 1, is_demo INTEGER NOT NULL DEFAULT 0,
    metadata TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS agents_by_org_created ON agents (org_id, created_at, seq);
CREATE TABLE IF NOT EXISTS agent_versions (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, agent_id TEXT NOT NULL REFERENCES agents(id),
    version INTEGER NOT NULL, published INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, UNIQUE (agent_id, version)
);
CREATE INDEX IF NOT EXISTS agent_versions_by_agent_created ON agent_versions (agent_id, created_at, seq);
"""
# Sandbox files written before the agent directory existed hold agents without these columns. The statements
# run one by one because executescript() would commit the transaction that keeps a second process out.
_AGENTS_FROM_V1 = (
    "ALTER TABLE agent_versions RENAME TO agent_versions_v1",
    "ALTER TABLE agents RENAME TO agents_v1",
    *(statement for statement in AGENT_TABLES.split(";") if statement.strip()),
    "INSERT INTO agents (id, org_id, name, created_at, updated_at)"
    " SELECT id, org_id, name, created_at, created_at FROM agents_v1 ORDER BY created_at, rowid",
    "INSERT INTO agent_versions (id, agent_id, version, published, created_at, updated_at)"
    " SELECT v.id, v.agent_id, v.version, EXISTS (SELECT 1 FROM phone_numbers p"
    " WHERE p.inbound_agent_version_id = v.id OR p.outbound_agent_version_id = v.id),"
    " v.created_at, v.created_at FROM agent_versions_v1 v ORDER BY v.created_at, v.rowid",
    "DROP TABLE agent_versions_v1",
    "DROP TABLE agents_v1",
)

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_timestamp(moment: datetime) -> str:
    """Fixed-width UTC text, so string order is time order inside SQLite."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def new_uuid() -> str:
    return str(uuid.uuid4())


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Database:
    def __init__(self, path: str | Path, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        self._depth = 0
        self.connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.connection.row_factory = sqlite3.Row
        if str(path) != ":memory:":
            self.connection.execute("PRAGMA journal_mode=WAL")
        _upgrade_agent_tables(self.connection)
        self.connection.execute("PRAGMA foreign_keys=ON")
        self.connection.executescript(SCHEMA + AGENT_TABLES)
        self._file = None if str(path) == ":memory:" else Path(path)
        self._identity = self._file_identity()

    def _file_identity(self) -> tuple[int, int] | None:
        if self._file is None:
            return None
        try:
            found = os.stat(self._file)
        except FileNotFoundError:
            return None
        return found.st_dev, found.st_ino

    def _check_file(self) -> None:
        """SQLite keeps writing to a deleted file's inode and loses it all on exit: refuse instead."""
        if self._file is not None and self._file_identity() != self._identity:
            raise StorageLost(
                f"The sandbox database file {self._file} was removed or replaced while the sandbox ran; nothing "
                "was read or written. Restart the sandbox."
            )

    def now(self) -> str:
        return format_timestamp(self._clock())

    @contextmanager
    def transaction(self) -> Generator[sqlite3.Connection]:
        """All-or-nothing writes; nested calls join the outer transaction.

        The lock keeps threads from interleaving statements on the one shared connection.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.connection
                finally:
                    self._depth -= 1
                return
            self._check_file()
            self.connection.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            else:
                self.connection.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            self._check_file()
            return self.connection.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Row | None:
        with self._lock:
            self._check_file()
            row: sqlite3.Row | None = self.connection.execute(sql, params).fetchone()
            return row

    def meta(self, key: str) -> str | None:
        row = self.query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row["value"]

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self.connection.close()


def _upgrade_agent_tables(connection: sqlite3.Connection) -> None:
    """Rebuild agent tables of the first layout in place, keeping ids, so seeded numbers still point at them."""
    if not _has_first_agent_layout(connection):
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        if _has_first_agent_layout(connection):  # another process may have upgraded it while we waited
            for statement in _AGENTS_FROM_V1:
                connection.execute(statement)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _has_first_agent_layout(connection: sqlite3.Connection) -> bool:
    columns = {row[1] for row in connection.execute("PRAGMA table_info(agents)")}
    return bool(columns) and "seq" not in columns
