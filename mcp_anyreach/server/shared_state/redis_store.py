"""Shared state on Redis (or Valkey), for replicas on several machines.

Every key lives under `mcp-anyreach:<namespace>:`, the namespace being the Anyreach account's fingerprint,
so deployments for different organizations can share one Redis. Each operation is one atomic command or
script; when Redis cannot be reached it raises `SharedStateUnavailable` and records nothing, and the
client reconnects by itself on the next call once Redis is back.

Redis must keep what it is told: with `maxmemory-policy` other than `noeviction`, or without persistence
(AOF), a restart or an eviction forgets used confirmation tokens, which could then be replayed until
they expire (5 minutes).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from mcp_anyreach.api import AvailableNumber
from mcp_anyreach.server.shared_state.budget import new_reservation
from mcp_anyreach.server.shared_state.errors import SharedStateUnavailable

T = TypeVar("T")
# Replicas' clocks differ a little: a used token is kept this much longer than it is valid.
CLOCK_SKEW_SECONDS = 60
OFFER_TTL_SECONDS = 3600
# Fail fast: a gated call waits at most a few seconds for an unreachable Redis, then says so.
TIMEOUT_SECONDS = 2.0
MAX_CONNECTIONS = 50

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
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._prefix = f"mcp-anyreach:{namespace}:used-token:"

    async def claim(self, nonce: str, expires_at: float, now: float) -> bool:
        # A claim id and GET tell a retried SET (whose first reply was lost) from someone else's claim.
        claim_id = secrets.token_urlsafe(9)
        previous = await _unless_unreachable(
            self._redis.set(
                self._prefix + nonce,
                claim_id,
                nx=True,
                get=True,
                # Relative, so Redis's clock does not matter; replicas whose clocks lag ours get the slack.
                px=max(1, int((expires_at - now + CLOCK_SKEW_SECONDS) * 1000)),
            ),
            "record a used confirmation token",
        )
        return previous is None or previous == claim_id


class RedisPurchaseBudget:
    def __init__(self, redis: Redis, namespace: str, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._redis = redis
        self._key = f"mcp-anyreach:{namespace}:purchases"
        self._reserve = redis.register_script(RESERVE)

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


class RedisOffers:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._prefix = f"mcp-anyreach:{namespace}:offer:"

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
