"""Fault injection: a sandbox that fails the way a real service over a real network does.

Each request under ``/core`` draws one fault, or none, from a seeded generator:

- ``error``: a 500, 502 or 503 answered *before* the handler runs, so nothing was applied;
- ``rate_limit``: a 429 with ``Retry-After``, also before the handler;
- ``drop``: the handler runs and its transaction commits, then the connection is dropped before the
  answer arrives: the client sees a transport error (``httpx2.RemoteProtocolError`` in-process; a
  closed socket under uvicorn) although the write was applied.

``latency_ms`` delays every request; ``max_faults`` stops injecting after that many faults.
``enabled = False`` turns every fault off, so a test can read the state a faulty run left behind
through the same app; ``injected`` counts the faults by kind.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import anyio
import httpx2
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_anyreach.sandbox.spec import parse_spec

FaultKind = Literal["error", "rate_limit", "drop"]
ERROR_STATUSES = (500, 502, 503)
FAULTY_PREFIX = "/core/"
_SPEC_NAMES = (
    "error_rate",
    "rate_limit_rate",
    "drop_after_write_rate",
    "latency_ms",
    "retry_after",
    "seed",
    "max_faults",
)


class ConnectionDropped(httpx2.RemoteProtocolError):
    """Raised out of the app after the write committed; to an in-process client it is a lost connection."""


@dataclass
class Faults:
    """What to inject, and how often: each rate is a probability per request, their sum at most 1."""

    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    drop_after_write_rate: float = 0.0
    latency_ms: float = 0.0
    retry_after: int = 0
    seed: int | None = None
    max_faults: int | None = None
    enabled: bool = True
    injected: Counter[str] = field(default_factory=Counter[str], init=False, compare=False, repr=False)
    _random: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rates = (self.error_rate, self.rate_limit_rate, self.drop_after_write_rate)
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
            raise ValueError("fault rates are probabilities in [0, 1] whose sum is at most 1")
        if self.latency_ms < 0 or self.retry_after < 0 or (self.max_faults or 0) < 0:
            raise ValueError("latency_ms, retry_after and max_faults cannot be negative")
        # Fault injection for tests, not cryptography.
        self._random = random.Random(self.seed)  # noqa: S311

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """``"error_rate=0.1,rate_limit_rate=0.05,latency_ms=20,drop_after_write_rate=0.05,seed=1"``."""
        values: dict[str, float] = {}
        for name, text in parse_spec(spec, _SPEC_NAMES).items():
            try:
                values[name] = float(text)
            except ValueError as exc:
                raise ValueError(f"{f'{name}={text}'!r}: {text!r} is not a number") from exc
        seed, max_faults = values.get("seed"), values.get("max_faults")
        return cls(
            error_rate=values.get("error_rate", 0.0),
            rate_limit_rate=values.get("rate_limit_rate", 0.0),
            drop_after_write_rate=values.get("drop_after_write_rate", 0.0),
            latency_ms=values.get("latency_ms", 0.0),
            retry_after=int(values.get("retry_after", 0)),
            seed=None if seed is None else int(seed),
            max_faults=None if max_faults is None else int(max_faults),
        )

    def draw(self) -> FaultKind | None:
        """The fault for the next request, or None; counted in `injected`."""
        if not self.enabled or (self.max_faults is not None and self.injected.total() >= self.max_faults):
            return None
        roll = self._random.random()
        chances: tuple[tuple[FaultKind, float], ...] = (
            ("error", self.error_rate),
            ("rate_limit", self.rate_limit_rate),
            ("drop", self.drop_after_write_rate),
        )
        for kind, rate in chances:
            if roll < rate:
                self.injected[kind] += 1
                return kind
            roll -= rate
        return None

    def error_status(self) -> int:
        return self._random.choice(ERROR_STATUSES)


class FaultInjector:
    """ASGI middleware applying `faults` to every ``/core/…`` request."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(FAULTY_PREFIX) or not self.faults.enabled:
            await self.app(scope, receive, send)
            return
        if self.faults.latency_ms:
            await anyio.sleep(self.faults.latency_ms / 1000)
        match self.faults.draw():
            case "error":
                status = self.faults.error_status()
                await _answer(send, status, b'{"detail":"Injected fault: the service failed"}')
            case "rate_limit":
                headers = [(b"retry-after", str(self.faults.retry_after).encode())]
                await _answer(send, 429, b'{"detail":"Injected fault: too many requests"}', headers)
            case "drop":
                await self._run_then_drop(scope, receive, send)
            case None:
                await self.app(scope, receive, send)

    async def _run_then_drop(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message

        await self.app(scope, receive, hold)
        if start is not None:
            # Under a real server a started response makes it close the socket instead of answering 500.
            await send(start)
        raise ConnectionDropped("Injected fault: the connection dropped after the request was applied")


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers + (headers or [])})
    await send({"type": "http.response.body", "body": body})


class QuietDrops(logging.Filter):
    """Keeps uvicorn from logging a traceback for every connection the sandbox drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def faults_argument(spec: str) -> Faults:
    """`Faults.parse` as an argparse ``type=``: a wrong spec becomes a usage error that names the problem."""
    import argparse

    try:
        return Faults.parse(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
