"""Plans between `plan_changes` and `apply_changes`, and moves an interrupted apply left unfinished.

The protocol is small: `MemoryPlans` serves one process, and shared_state/ backs it with a SQLite file or
Redis for replicas. A plan id is 128 random bits: it cannot be guessed, and a plan is
taken (read and removed at once) when it is applied, so it runs at most once.

Each plan is kept for the caller who made it (the OAuth subject, or one anonymous caller without sign-in), at
most `PLANS_PER_CALLER` each: a caller planning in a loop drops only its own oldest plans. Callers that
cannot apply keep no plans at all (tools/changes.py), so they cannot crowd out those that can.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from mcp_anyreach.changes.model import MoveIntent, Plan

PLAN_TTL_SECONDS = 30 * 60
MOVE_TTL_SECONDS = 7 * 24 * 3600
# Plans kept at once, the oldest dropped first: a client planning in a loop cannot fill the store (and a
# shared Redis with it, which the confirmation gate needs); a dropped plan is refused and planned again.
PLAN_CAPACITY = 200
PLANS_PER_CALLER = 20
ANONYMOUS_CALLER = "anonymous"


def new_plan_id() -> str:
    return f"pln_{secrets.token_urlsafe(16)}"


class PlanStoreUnavailable(Exception):
    """The store could not be reached (a shared store's failure is one): nothing was recorded or read."""


class PlanStore(Protocol):
    async def save(self, plan: Plan, owner: str = ANONYMOUS_CALLER) -> None:
        """Keep the plan for `owner`, dropping that owner's oldest beyond its quota, then anyone's beyond the
        capacity."""
        ...

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
    """This process's plans (at most `quota` per caller and `capacity` in all, the oldest dropped first) and
    unfinished moves."""

    def __init__(
        self,
        *,
        ttl_seconds: int = PLAN_TTL_SECONDS,
        capacity: int = PLAN_CAPACITY,
        quota: int = PLANS_PER_CALLER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._quota = quota
        self._clock = clock
        self._plans: OrderedDict[str, tuple[float, Plan]] = OrderedDict()
        self._owners: dict[str, str] = {}
        self._moves: dict[str, tuple[float, MoveIntent]] = {}
        self._lock = threading.Lock()

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    async def save(self, plan: Plan, owner: str = ANONYMOUS_CALLER) -> None:
        with self._lock:
            self._plans[plan.id] = (self._clock() + self._ttl, plan)
            self._owners[plan.id] = owner
            owned = [plan_id for plan_id in self._plans if self._owners.get(plan_id) == owner]
            for plan_id in owned[: max(0, len(owned) - self._quota)]:
                self._drop(plan_id)
            while len(self._plans) > self._capacity:
                self._drop(next(iter(self._plans)))

    def _drop(self, plan_id: str) -> None:
        self._plans.pop(plan_id, None)
        self._owners.pop(plan_id, None)

    async def load(self, plan_id: str) -> Plan | None:
        with self._lock:
            return self._live(plan_id)

    async def take(self, plan_id: str) -> Plan | None:
        with self._lock:
            plan = self._live(plan_id)
            self._drop(plan_id)
            return plan

    def _live(self, plan_id: str) -> Plan | None:
        entry = self._plans.get(plan_id)
        if entry is None:
            return None
        expires, plan = entry
        if expires < self._clock():
            self._drop(plan_id)
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
