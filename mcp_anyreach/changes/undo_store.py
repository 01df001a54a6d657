"""Undo records between a change and its undo, and how long they are kept.

A record (`UndoRecord`) is what an applied change replaced (`UndoBasis`, made when it was planned or previewed)
and what it left: each target's digest after it, and its secret-free fields, so that a later undo can tell
whether a target changed since and say how. It never holds a password: the API never returns one.

Records are kept `UNDO_TTL_SECONDS` under an id that cannot be guessed (`und_` and 128 random bits). `MemoryUndo`
keeps them in this process (one server, the command line); shared_state/ keeps them in the token store's file
or Redis, keyed by the organization's namespace like every other shared record, so an organization never finds
another's.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from mcp_anyreach.changes.model import UndoBasis

UNDO_TTL_SECONDS = 7 * 24 * 3600
UNDO_TTL_TEXT = "7 days"
# Records one process keeps at once, the oldest dropped first: a loop of writes cannot fill its memory.
UNDO_CAPACITY = 1000


def new_undo_id() -> str:
    return f"und_{secrets.token_urlsafe(16)}"


class UndoRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)

    id: str
    made_by: str = Field(description="The tool (and plan) that made the change")
    expires_at: float = 0.0  # stamped by the store that keeps it
    basis: UndoBasis
    after: dict[str, str | None] = Field(description="target URI -> digest as the change left it (None: absent)")
    after_fields: dict[str, Any] = Field(default_factory=dict[str, Any], description="URI -> secret-free fields")
    created_trunk_ids: dict[str, str] = Field(default_factory=dict[str, str], description="name -> id")


class UndoStore(Protocol):
    async def save(self, record: UndoRecord) -> UndoRecord:
        """Keep the record until `ttl_seconds` from now; the record as kept (with its expiry)."""
        ...

    async def load(self, undo_id: str) -> UndoRecord | None:
        """The record, unexpired, or None."""
        ...

    @property
    def lasts(self) -> str:
        """How long a record lives, for people: `7 days`, or only while this process runs."""
        ...


class MemoryUndo:
    """This process's records: gone when it stops."""

    def __init__(
        self,
        *,
        ttl_seconds: int = UNDO_TTL_SECONDS,
        capacity: int = UNDO_CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._clock = clock
        self._records: OrderedDict[str, UndoRecord] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def lasts(self) -> str:
        return f"only while this process runs (at most {UNDO_TTL_TEXT}; there is no shared store)"

    async def save(self, record: UndoRecord) -> UndoRecord:
        kept = record.model_copy(update={"expires_at": self._clock() + self._ttl})
        with self._lock:
            self._records[kept.id] = kept
            while len(self._records) > self._capacity:
                self._records.popitem(last=False)
        return kept

    async def load(self, undo_id: str) -> UndoRecord | None:
        with self._lock:
            record = self._records.get(undo_id)
            if record is not None and record.expires_at < self._clock():
                del self._records[undo_id]
                return None
            return record
