"""The HTTP transports (streamable HTTP and SSE): loopback by default, a bearer token everywhere else."""

from __future__ import annotations

import hmac
import json

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_anyreach.domain.networks import is_loopback
from mcp_anyreach.server import sdk
from mcp_anyreach.server.http import oauth
from mcp_anyreach.server.http.limits import SseSessionLimits, StreamableSessionLimits
from mcp_anyreach.settings import Settings


class ExposureError(ValueError):
    """Refusing to serve HTTP beyond loopback without a bearer token."""


def check_exposure(settings: Settings) -> None:
    """Refuse, before anything starts, an HTTP server others could reach without a token or a known host name."""
    if settings.transport == "stdio" or is_loopback(settings.host):
        return
    if settings.http_token is None and settings.oauth_issuer is None:
        raise ExposureError(
            f"Refusing to listen on {settings.host} without MCP_ANYREACH_HTTP_TOKEN: anyone who can reach it could "
            "manage this organization's telephony. Set MCP_ANYREACH_HTTP_TOKEN (or MCP_ANYREACH_OAUTH_ISSUER for "
            "OAuth sign-in), or bind 127.0.0.1."
        )
    if settings.host in ("0.0.0.0", "::") and not settings.allowed_hosts:  # noqa: S104 - this is the check
        raise ExposureError(
            f"Listening on {settings.host} needs MCP_ANYREACH_ALLOWED_HOSTS, the Host names clients use "
            "(e.g. mcp.example.com:*), so that DNS-rebinding checks can tell them from a forged Host."
        )


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host and Origin checks, always on: loopback names plus the bind address and any configured names."""
    hosts = [*(settings.allowed_hosts or []), f"{settings.host}:*", settings.host]
    if is_loopback(settings.host):
        hosts += ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = [*(settings.allowed_origins or []), *(f"http://{h}" for h in hosts), *(f"https://{h}" for h in hosts)]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


def http_app(server: MCPServer, settings: Settings) -> ASGIApp:
    """The ASGI app for `settings.transport`, with Host/Origin checks and, when configured, bearer auth."""
    check_exposure(settings)
    security = transport_security(settings)
    if settings.transport == "sse":
        app: ASGIApp = SseSessionLimits(
            server.sse_app(transport_security=security, host=settings.host),
            max_sessions=settings.max_sessions,
            idle_seconds=settings.session_idle_seconds,
            security=security,
        )
    else:
        app = server.streamable_http_app(
            stateless_http=settings.stateless,
            transport_security=security,
            host=settings.host,
            max_sessions=settings.max_sessions,
            session_idle_timeout=settings.session_idle_seconds,
        )
        manager = server.session_manager
        sdk.wrap_authenticated_requests(manager, lambda inner: StreamableSessionLimits(inner, manager))
    if settings.http_token is None:
        return oauth.publish_scopes(app, settings)
    return BearerAuth(app, settings.http_token.get_secret_value())


class BearerAuth:
    """Every HTTP request must carry `Authorization: Bearer <MCP_ANYREACH_HTTP_TOKEN>`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                await _unauthorized(send)
                return
        await self._app(scope, receive, send)


async def _unauthorized(send: Send) -> None:
    body = json.dumps({"error": "unauthorized", "error_description": "Bearer token required"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="mcp-anyreach"'),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
