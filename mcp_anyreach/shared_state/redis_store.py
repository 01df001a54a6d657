"""Shared state on Redis (or Valkey), for replicas on several machines.

Every key lives under `mcp-anyreach:{<namespace>}:`, the namespace being the organization's fingerprint (base
URL and organization id, not the credential), so deployments for different organizations can share one Redis
and replicas of one organization share one budget whichever key each holds. Each operation is one atomic command or
script; when Redis cannot be reached it raises `SharedStateUnavailable` and records nothing, and the
client reconnects by itself on the next call once Redis is back.

Redis must keep what it is told: with `maxmemory-policy` other than `noeviction`, or without persistence
(AOF), a restart or an eviction forgets used confirmation tokens, which could then be replayed until
they expire (5 minutes).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from mcp_anyreach.api import AvailableNumber
from mcp_anyreach.changes.model import MoveIntent, Plan
from mcp_anyreach.changes.store import (
    ANONYMOUS_CALLER,
    MOVE_TTL_SECONDS,
    PLAN_CAPACITY,
    PLAN_TTL_SECONDS,
    PLANS_PER_CALLER,
)
from mcp_anyreach.changes.undo_store import UNDO_TTL_SECONDS, UNDO_TTL_TEXT, UndoRecord
from mcp_anyreach.shared_state.budget import new_reservation
from mcp_anyreach.shared_state.errors import SharedStateUnavailable
from mcp_anyreach.shared_state.used_tokens import RUNNING, Claim, FirstUse, settled

T = TypeVar("T")
# Replicas' clocks differ a little: a used token is kept this much longer than it is valid.
CLOCK_SKEW_SECONDS = 60
OFFER_TTL_SECONDS = 3600
# Fail fast: a gated call waits at most a few seconds for an unreachable Redis, then says so. Not less:
# a loaded host (two busy cores, 400 concurrent calls) answered a reservation after more than 2 s.
TIMEOUT_SECONDS = 5.0
MAX_CONNECTIONS = 50

# KEYS: the token's used-token key, then one written-key per target. ARGV: claim id, now, minted at, nonce,
# milliseconds to keep. "used", "stale" (a target written by another writer since the token was minted) or
# "fresh" (recorded: the token as used, the targets as written by it now).
CLAIM = """
local existing = redis.call('GET', KEYS[1])
if existing then
  if existing == ARGV[1] then
    return 'fresh'
  end
  return 'used'
end
for i = 2, #KEYS do
  local written = redis.call('HMGET', KEYS[i], 'at', 'writer')
  if written[1] and tonumber(written[1]) >= tonumber(ARGV[3]) and written[2] ~= ARGV[4] then
    return 'stale'
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[5])
for i = 2, #KEYS do
  redis.call('HSET', KEYS[i], 'at', ARGV[2], 'writer', ARGV[4])
  redis.call('PEXPIRE', KEYS[i], ARGV[5])
end
return 'fresh'
"""
RESERVE = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. tostring(now - window))
if redis.call('ZCARD', key) >= limit then
  return 0
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return 1
"""
# The oldest purchase still in the window with its time, as the string Redis keeps (a number returned by Lua
# would lose its fraction).
OLDEST = """
return redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
"""

# KEYS: the plan's key, the sorted set of plan keys by when they expire, the same set of its caller's plans.
# ARGV: the plan, its expiry, milliseconds to keep it, now, how many plans to keep, how many per caller. The
# caller's own plans beyond its quota go first (the soonest to expire first), then anyone's beyond the capacity.
SAVE_PLAN = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
for _, key in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', KEYS[3], key)
  end
end
local limits = {[2] = tonumber(ARGV[5]), [3] = tonumber(ARGV[6])}
for _, set in ipairs({3, 2}) do
  redis.call('ZREMRANGEBYSCORE', KEYS[set], '-inf', '(' .. ARGV[4])
  redis.call('ZADD', KEYS[set], ARGV[2], KEYS[1])
  local excess = redis.call('ZCARD', KEYS[set]) - limits[set]
  if excess > 0 then
    for _, key in ipairs(redis.call('ZRANGE', KEYS[set], 0, excess - 1)) do
      redis.call('DEL', key)
      redis.call('ZREM', KEYS[2], key)
      redis.call('ZREM', KEYS[3], key)
    end
  end
  redis.call('PEXPIRE', KEYS[set], ARGV[3])
end
return 1
"""
# KEYS: the moves hash (phone -> intent JSON), the sorted set of when each expires. ARGV: now, expires at,
# milliseconds to keep both keys, then phone and intent pairs. Expired moves are dropped on the way.
REMEMBER_MOVES = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
for _, phone in ipairs(expired) do
  redis.call('HDEL', KEYS[1], phone)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""


def connect_redis(url: str) -> Redis:
    """A client of `url` that fails within seconds and retries once (it connects on first use).

    Calls beyond `MAX_CONNECTIONS` at once wait their turn for a connection instead of failing.
    """
    pool = BlockingConnectionPool.from_url(  # pyright: ignore[reportUnknownMemberType]  # **kwargs untyped upstream
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=TIMEOUT_SECONDS,
        decode_responses=True,
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=1),
        health_check_interval=30,
    )
    return Redis.from_pool(pool)


async def _unless_unreachable(operation: Awaitable[T], what: str) -> T:
    try:
        return await operation
    except (RedisError, OSError) as exc:
        # The URL may carry a password: say what failed, not where.
        raise SharedStateUnavailable(f"Redis could not be reached to {what} ({type(exc).__name__})") from exc


class RedisUsedTokens:
    """Used tokens (`SET` with an expiry), how each first use ended (a JSON string beside it, with the same
    expiry), and the last write to each target (a hash with an expiry)."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._prefix = key_prefix(namespace)
        self._claim = redis.register_script(CLAIM)

    async def first_use(self, nonce: str, now: float) -> FirstUse | None:
        used, ended = await _unless_unreachable(
            self._redis.mget([self._used_key(nonce), self._outcome_key(nonce)]), "look up a confirmation token"
        )
        if used is None:
            return None
        if ended is None:
            return RUNNING
        stored = json.loads(ended)
        return FirstUse(stored["state"], stored["outcome"])

    async def claim(
        self, nonce: str, expires_at: float, now: float, *, targets: Sequence[str] = (), minted_at: float = 0.0
    ) -> Claim:
        # A claim id tells a claim retried after its reply was lost from someone else's claim of the nonce.
        claim_id = secrets.token_urlsafe(9)
        keys = [self._used_key(nonce), *(self._written_key(target) for target in targets)]
        arguments = [claim_id, repr(now), repr(minted_at), nonce, _keep_ms(expires_at, now)]
        verdict = await _unless_unreachable(
            cast(Awaitable[Any], self._claim(keys=keys, args=arguments)), "record a used confirmation token"
        )
        if verdict not in ("fresh", "used", "stale"):
            raise SharedStateUnavailable(f"Redis answered {verdict!r} to a token claim")
        return verdict

    async def touch(self, targets: Sequence[str], now: float, keep_until: float) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for target in targets:
                key = self._written_key(target)
                pipe.hset(key, mapping={"at": repr(now), "writer": ""})
                pipe.pexpire(key, _keep_ms(keep_until, now))
            await _unless_unreachable(pipe.execute(), "record a write")

    async def settle(self, nonce: str, outcome: str | None, *, expires_at: float, now: float) -> None:
        use = settled(outcome)
        value = json.dumps({"state": use.state, "outcome": use.outcome})
        keep = _keep_ms(expires_at, now)
        await _unless_unreachable(self._redis.set(self._outcome_key(nonce), value, px=keep), "record an outcome")

    def _used_key(self, nonce: str) -> str:
        return f"{self._prefix}used-token:{nonce}"

    def _outcome_key(self, nonce: str) -> str:
        return f"{self._prefix}token-outcome:{nonce}"

    def _written_key(self, target: str) -> str:
        return f"{self._prefix}written:{target}"


def key_prefix(namespace: str) -> str:
    # The braces make every key of one namespace hash to the same cluster slot, as scripts require.
    return f"mcp-anyreach:{{{namespace}}}:"


def _keep_ms(until: float, now: float) -> int:
    """Relative, so Redis's own clock does not matter; replicas whose clocks lag this one get the slack."""
    return max(1, int((until - now + CLOCK_SKEW_SECONDS) * 1000))


class RedisPurchaseBudget:
    def __init__(self, redis: Redis, namespace: str, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._redis = redis
        self._key = f"{key_prefix(namespace)}purchases"
        self._reserve = redis.register_script(RESERVE)
        self._oldest = redis.register_script(OLDEST)

    async def reserve(self, now: float) -> str | None:
        reservation = new_reservation()
        arguments = [now, self.window_seconds, self.limit, reservation]
        granted = await _unless_unreachable(
            cast(Awaitable[Any], self._reserve(keys=[self._key], args=arguments)), "reserve a purchase"
        )
        return reservation if granted == 1 else None

    async def release(self, reservation: str) -> None:
        await _unless_unreachable(self._redis.zrem(self._key, reservation), "release a purchase")

    async def spent(self, now: float) -> int:
        count = await _unless_unreachable(
            self._redis.zcount(self._key, f"{now - self.window_seconds!r}", "+inf"), "count purchases"
        )
        return int(count)

    async def frees_at(self, now: float) -> float | None:
        oldest = await _unless_unreachable(
            cast(Awaitable[list[Any]], self._oldest(keys=[self._key], args=[now - self.window_seconds])),
            "read the oldest purchase",
        )
        return float(oldest[1]) + self.window_seconds if oldest else None


class RedisOffers:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._prefix = f"{key_prefix(namespace)}offer:"

    async def remember(self, offers: Sequence[AvailableNumber]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for offer in offers:
                pipe.set(self._prefix + offer.phone_number, offer.model_dump_json(), ex=OFFER_TTL_SECONDS)
            await _unless_unreachable(pipe.execute(), "remember offers")

    async def recall(self, phone_number: str) -> AvailableNumber | None:
        found = await _unless_unreachable(self._redis.get(self._prefix + phone_number), "recall an offer")
        return None if found is None else AvailableNumber.model_validate_json(found)

    async def forget(self, phone_number: str) -> None:
        await _unless_unreachable(self._redis.delete(self._prefix + phone_number), "forget an offer")


class StoredPlan(BaseModel):
    """A plan as Redis keeps it: the expiry travels with it, so every replica judges it by the same moment."""

    model_config = ConfigDict(defer_build=True)

    expires_at: float
    plan: Plan

    def live(self, now: float) -> Plan | None:
        return self.plan if self.expires_at >= now else None


class RedisPlans:
    """Plans (a string each, expiring; taken with `GETDEL`, so one replica runs it) and unfinished moves (a
    hash by phone number, with a sorted set of when each expires)."""

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        *,
        ttl_seconds: int = PLAN_TTL_SECONDS,
        capacity: int = PLAN_CAPACITY,
        quota: int = PLANS_PER_CALLER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._quota = quota
        self._clock = clock
        prefix = key_prefix(namespace)
        self._plan_prefix = f"{prefix}plan:"
        self._moves_key = f"{prefix}moves"
        self._expiry_key = f"{prefix}moves-expire"
        self._plans_key = f"{prefix}plans"
        self._owner_prefix = f"{prefix}plans-of:"
        self._save = redis.register_script(SAVE_PLAN)
        self._remember = redis.register_script(REMEMBER_MOVES)

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    async def save(self, plan: Plan, owner: str = ANONYMOUS_CALLER) -> None:
        now = self._clock()
        expires = now + self._ttl
        stored = StoredPlan(expires_at=expires, plan=plan).model_dump_json()
        arguments = [stored, repr(expires), _keep_ms(expires, now), repr(now), self._capacity, self._quota]
        owner_key = self._owner_prefix + hashlib.sha256(owner.encode()).hexdigest()[:32]  # a name of any length
        keys = [self._plan_prefix + plan.id, self._plans_key, owner_key]
        await _unless_unreachable(cast(Awaitable[Any], self._save(keys=keys, args=arguments)), "keep a plan")

    async def load(self, plan_id: str) -> Plan | None:
        found = await _unless_unreachable(self._redis.get(self._plan_prefix + plan_id), "read a plan")
        return self._live(found)

    async def take(self, plan_id: str) -> Plan | None:
        key = self._plan_prefix + plan_id
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.getdel(key)
            pipe.zrem(self._plans_key, key)
            found, _ = await _unless_unreachable(pipe.execute(), "take a plan")
        return self._live(found)

    def _live(self, found: str | bytes | None) -> Plan | None:
        return None if found is None else StoredPlan.model_validate_json(found).live(self._clock())

    async def remember_moves(self, moves: Mapping[str, MoveIntent]) -> None:
        if not moves:
            return
        now = self._clock()
        arguments: list[str | int] = [repr(now), repr(now + MOVE_TTL_SECONDS), _keep_ms(now + MOVE_TTL_SECONDS, now)]
        for phone, intent in moves.items():
            arguments += [phone, intent.model_dump_json()]
        keys = [self._moves_key, self._expiry_key]
        await _unless_unreachable(
            cast(Awaitable[Any], self._remember(keys=keys, args=arguments)), "remember unfinished moves"
        )

    async def moves(self) -> dict[str, MoveIntent]:
        async with self._redis.pipeline(transaction=True) as pipe:
            live_now = repr(self._clock())
            pipe.zrangebyscore(self._expiry_key, live_now, "+inf")  # pyright: ignore[reportUnknownMemberType]
            pipe.hgetall(self._moves_key)
            live, intents = await _unless_unreachable(pipe.execute(), "read unfinished moves")
        return {phone: MoveIntent.model_validate_json(intents[phone]) for phone in live if phone in intents}

    async def forget_moves(self, phone_numbers: Iterable[str]) -> None:
        phones = list(phone_numbers)
        if not phones:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._moves_key, *phones)
            pipe.zrem(self._expiry_key, *phones)
            await _unless_unreachable(pipe.execute(), "forget finished moves")


class RedisUndo:
    """Undo records: a string each under the organization's prefix, expiring with Redis's own TTL."""

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        *,
        ttl_seconds: int = UNDO_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._prefix = f"{key_prefix(namespace)}undo:"
        self._ttl = ttl_seconds
        self._clock = clock

    @property
    def lasts(self) -> str:
        return UNDO_TTL_TEXT

    async def save(self, record: UndoRecord) -> UndoRecord:
        now = self._clock()
        kept = record.model_copy(update={"expires_at": now + self._ttl})
        keep = _keep_ms(kept.expires_at, now)
        stored = self._redis.set(self._prefix + kept.id, kept.model_dump_json(), px=keep)
        await _unless_unreachable(stored, "keep an undo record")
        return kept

    async def load(self, undo_id: str) -> UndoRecord | None:
        found = await _unless_unreachable(self._redis.get(self._prefix + undo_id), "read an undo record")
        if found is None:
            return None
        record = UndoRecord.model_validate_json(found)
        return record if record.expires_at >= self._clock() else None
