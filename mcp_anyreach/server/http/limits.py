"""Sessions cannot be exhausted: caps, idle expiry, eviction of the oldest idle session, clean refusals.

A flood of `initialize` requests (or of held SSE streams) must not lock out the next legitimate client.
Each transport keeps at most `max_sessions`; a session with nothing in flight for `idle_seconds` ends;
when the cap is reached the oldest idle session is ended to make room, and only when every session is
busy is a new client refused, with 503 and `Retry-After`.

Room is made only for a request that would really open a session: one that passed authentication and the
Host/Origin checks, and on streamable HTTP an `initialize`. Otherwise anyone could end a signed-in user's
idle session (and its session-bound confirmation token) with requests that are then refused.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import parse_qs

import anyio
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_anyreach.server import sdk

RETRY_AFTER_SECONDS = 5
_SESSION_IN_ENDPOINT = re.compile(rb"session_id=([0-9a-f]{32})")


async def refuse(send: Send, status: int, message: str, retry_after: int | None = None) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def passes_transport_checks(scope: Scope, security: TransportSecuritySettings | None, *, post: bool) -> bool:
    """Whether the SDK's Host, Origin (and, for a POST, Content-Type) checks will let this request through."""
    return await TransportSecurityMiddleware(security).validate_request(Request(scope), is_post=post) is None


class StreamableSessionLimits:
    """Before an `initialize` would open a new session at the cap, end the oldest idle one; tag 503s with
    Retry-After. It sits behind the SDK's authentication (`sdk.wrap_authenticated_requests`).

    It also answers a GET carrying Last-Event-ID with 400: this server keeps no event history, and the SDK
    (mcp 2.3) answers such a GET with a 500 when no event store is configured.
    """

    def __init__(self, app: ASGIApp, manager: StreamableHTTPSessionManager) -> None:
        self._app = app
        self._manager = manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if scope["method"] == "GET" and b"last-event-id" in headers:
            await refuse(
                send,
                400,
                "This server keeps no event history, so it cannot resume a stream; "
                "open a new one without Last-Event-ID.",
            )
            return
        if scope["method"] == "POST" and b"mcp-session-id" not in headers and sdk.sessions_full(self._manager):
            receive = await self._make_room_for_initialize(scope, receive)
        await self._app(scope, receive, _with_retry_after(send))

    async def _make_room_for_initialize(self, scope: Scope, receive: Receive) -> Receive:
        """End the oldest idle session if this request is an `initialize` the SDK will accept; the body read
        to tell is handed on unchanged (the SDK's size limit, in front of this, has already bounded it)."""
        read: list[Message] = []
        while not read or (read[-1]["type"] == "http.request" and read[-1].get("more_body", False)):
            read.append(await receive())
        body = b"".join(message.get("body", b"") for message in read)
        if _is_initialize(body) and await passes_transport_checks(scope, self._manager.security_settings, post=True):
            await sdk.make_room_for_a_session(self._manager)

        async def replay() -> Message:
            return read.pop(0) if read else await receive()

        return replay


def _is_initialize(body: bytes) -> bool:
    try:
        request: object = json.loads(body)
    except ValueError:
        return False
    return isinstance(request, dict) and cast(dict[str, object], request).get("method") == "initialize"


def _with_retry_after(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 503:
            message = {
                **message,
                "headers": [*message.get("headers", []), (b"retry-after", b"%d" % RETRY_AFTER_SECONDS)],
            }
        await send(message)

    return sending


@dataclass
class _Stream:
    opened: float
    scope: anyio.CancelScope
    last_post: float = -math.inf
    session: bytes | None = None


@dataclass
class SseSessionLimits:
    """The same rules for the SSE transport, which has none of its own: each GET /sse is a session."""

    app: ASGIApp
    max_sessions: int
    idle_seconds: float
    security: TransportSecuritySettings | None = None
    _streams: dict[int, _Stream] = field(default_factory=dict[int, _Stream])
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["method"] == "GET" and scope["path"].endswith("/sse"):
            await self._stream(scope, receive, send)
        else:
            if scope["method"] == "POST":
                self._touch(scope)
            await self.app(scope, receive, send)

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        if len(self._streams) >= self.max_sessions:
            if not await passes_transport_checks(scope, self.security, post=False):
                await self.app(scope, receive, send)  # the SDK refuses it (421 or 403) and opens nothing
                return
            if not self._evict_oldest_idle():
                await refuse(send, 503, "Too many open sessions; try again shortly.", RETRY_AFTER_SECONDS)
                return
        key = next(self._ids)
        now = anyio.current_time()
        stream = self._streams[key] = _Stream(opened=now, scope=anyio.CancelScope(deadline=now + self.idle_seconds))

        async def sending(message: Message) -> None:
            body = message.get("body", b"") if stream.session is None else b""
            if found := _SESSION_IN_ENDPOINT.search(body):
                stream.session = found.group(1)
            await send(message)

        try:
            with stream.scope:
                await self.app(scope, receive, sending)
        finally:
            del self._streams[key]

    def _touch(self, scope: Scope) -> None:
        session = parse_qs(scope.get("query_string", b"").decode()).get("session_id", [""])[0].encode()
        now = anyio.current_time()
        for stream in self._streams.values():
            if stream.session == session:
                stream.last_post = now
                stream.scope.deadline = now + self.idle_seconds

    def _evict_oldest_idle(self) -> bool:
        now = anyio.current_time()
        # Busy: it sent a message within the last few seconds (its reply may still be on the way).
        idle = [s for s in self._streams.values() if now - s.last_post >= RETRY_AFTER_SECONDS]
        if not idle:
            return False
        oldest = min(idle, key=lambda s: (s.last_post, s.opened))
        oldest.scope.cancel()
        self._streams = {k: s for k, s in self._streams.items() if s is not oldest}
        return True
