"""The one place that reaches into the MCP SDK's internals; everything else uses its documented exports.

Each import says why it is needed. `tests/server/test_layers.py` fails loudly when the SDK moves one (and
when another module imports the SDK's private modules), so an upgrade breaks a test, not a user's call.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Callable

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import principal_components
from mcp.server.mcpserver import Context

# Tools are built with `Tool(...)` directly (not the `@server.tool` decorator), so that their input schemas
# can ship with the package instead of being derived on every start: that needs the same pieces the
# decorator uses to find resolver and context parameters and to validate arguments.
from mcp.server.mcpserver.resolve import build_resolver_plans
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import RequestBodyLimitMiddleware
from starlette.types import ASGIApp

__all__ = [
    "ArgModelBase",
    "FuncMetadata",
    "build_resolver_plans",
    "caller",
    "connection_key",
    "find_context_parameter",
    "make_room_for_a_session",
    "sessions_full",
    "wrap_authenticated_requests",
]

_connection_keys: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def connection_key(ctx: Context) -> str:
    """A random name for the client connection this request arrived on (a legacy-era MCP session).

    The SDK builds a session proxy per request; the connection behind it lives as long as the client's
    session (stdio, SSE, stateful streamable HTTP), and is private (`ServerSession._connection`).
    """
    connection: object = ctx.session._connection  # pyright: ignore[reportPrivateUsage]
    key = _connection_keys.get(connection)
    if key is None:
        key = _connection_keys[connection] = secrets.token_urlsafe(12)
    return key


def caller() -> str:
    """Who the HTTP layer authenticated for this request (OAuth client, issuer and subject), or "-"."""
    token = get_access_token()
    if token is None:
        return "-"
    return "|".join(part or "" for part in principal_components(token))


def wrap_authenticated_requests(manager: StreamableHTTPSessionManager, wrap: Callable[[ASGIApp], ASGIApp]) -> None:
    """Put `wrap` between the SDK's checks of a request (its bearer authentication and body size) and the
    session manager, so that what `wrap` does happens only for requests that passed them.

    The SDK's route calls `manager.asgi_app` only after authentication; that attribute is its body-size
    limit, which calls the manager's own handler as `.app`.
    """
    limiter = manager.asgi_app
    if not isinstance(limiter, RequestBodyLimitMiddleware):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError("the MCP SDK no longer calls its session manager through RequestBodyLimitMiddleware")
    limiter.app = wrap(limiter.app)


def sessions_full(manager: StreamableHTTPSessionManager) -> bool:
    """Whether a new stateful session would be refused now, for want of room."""
    limit = manager.max_sessions
    return limit is not None and len(manager._server_instances) >= limit  # pyright: ignore[reportPrivateUsage]


async def make_room_for_a_session(manager: StreamableHTTPSessionManager) -> None:
    """At the session cap, end the stateful session that has been idle longest, if any is idle.

    The SDK caps sessions but then refuses every newcomer (503) until an idle one times out; it has no
    eviction, so this reads its private session table (`_server_instances`, `_requests_in_flight`) and
    ends the session the way the SDK itself does (`_discard_session`).
    """
    sessions = manager._server_instances  # pyright: ignore[reportPrivateUsage]
    if not sessions_full(manager):
        return
    idle = [
        (transport.idle_scope.deadline, session_id, transport)
        for session_id, transport in list(sessions.items())
        if transport._requests_in_flight == 0  # pyright: ignore[reportPrivateUsage]
        and transport.idle_scope is not None
    ]
    if idle:
        _, session_id, transport = min(idle, key=lambda entry: entry[0])
        await manager._discard_session(session_id, transport)  # pyright: ignore[reportPrivateUsage]
