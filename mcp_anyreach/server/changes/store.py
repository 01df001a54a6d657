"""Plans between `plan_changes` and `apply_changes`, and moves an interrupted apply left unfinished.

The protocol is small so that the shared state (server/shared_state) can back it with Redis for replicas
later; `MemoryPlans` serves one process. A plan id is 128 random bits: it cannot be guessed, and a plan is
taken (read and removed at once) when it is applied, so it runs at most once.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from mcp_anyreach.server.changes.model import MoveIntent, Plan

PLAN_TTL_SECONDS = 30 * 60
MOVE_TTL_SECONDS = 7 * 24 * 3600
# Plans kept at once, the oldest dropped first: a client planning in a loop cannot fill the store (and a
# shared Redis with it, which the confirmation gate needs); a dropped plan is refused and planned again.
PLAN_CAPACITY = 200


def new_plan_id() -> str:
    return f"pln_{secrets.token_urlsafe(16)}"


class PlanStore(Protocol):
    async def save(self, plan: Plan) -> None: ...

    async def load(self, plan_id: str) -> Plan | None:
        """The plan, unexpired, or None."""
        ...

    async def take(self, plan_id: str) -> Plan | None:
        """The plan, removed at once so that no other apply can run it, or None."""
        ...

    async def remember_moves(self, moves: Mapping[str, MoveIntent]) -> None: ...

    async def moves(self) -> dict[str, MoveIntent]:
        """Every unfinished move, by phone number."""
        ...

    async def forget_moves(self, phone_numbers: Iterable[str]) -> None: ...

    @property
    def ttl_seconds(self) -> int: ...


class MemoryPlans:
    """This process's plans (at most `capacity`, the oldest dropped first) and unfinished moves."""

    def __init__(
        self,
        *,
        ttl_seconds: int = PLAN_TTL_SECONDS,
        capacity: int = PLAN_CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._clock = clock
        self._plans: OrderedDict[str, tuple[float, Plan]] = OrderedDict()
        self._moves: dict[str, tuple[float, MoveIntent]] = {}
        self._lock = threading.Lock()

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    async def save(self, plan: Plan) -> None:
        with self._lock:
            self._plans[plan.id] = (self._clock() + self._ttl, plan)
            while len(self._plans) > self._capacity:
                self._plans.popitem(last=False)

    async def load(self, plan_id: str) -> Plan | None:
        with self._lock:
            return self._live(plan_id)

    async def take(self, plan_id: str) -> Plan | None:
        with self._lock:
            plan = self._live(plan_id)
            self._plans.pop(plan_id, None)
            return plan

    def _live(self, plan_id: str) -> Plan | None:
        entry = self._plans.get(plan_id)
        if entry is None:
            return None
        expires, plan = entry
        if expires < self._clock():
            del self._plans[plan_id]
            return None
        return plan

    async def remember_moves(self, moves: Mapping[str, MoveIntent]) -> None:
        expires = self._clock() + MOVE_TTL_SECONDS
        with self._lock:
            self._moves.update((phone, (expires, intent)) for phone, intent in moves.items())

    async def moves(self) -> dict[str, MoveIntent]:
        now = self._clock()
        with self._lock:
            return {phone: intent for phone, (expires, intent) in self._moves.items() if expires >= now}

    async def forget_moves(self, phone_numbers: Iterable[str]) -> None:
        with self._lock:
            for phone in phone_numbers:
                self._moves.pop(phone, None)
