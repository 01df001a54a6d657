"""Sign-in with OAuth on streamable HTTP: this server is an OAuth 2.1 resource server (MCP authorization).

An identity provider (the issuer) signs access tokens as JWTs. This server checks each one against the
issuer's published keys (JWKS): signature, `exp`, `iss`, and an audience equal to this server's resource URL
(`MCP_ANYREACH_RESOURCE_URL`). The SDK's middleware answers a request without a valid token with 401 and a
`WWW-Authenticate` header pointing at the Protected Resource Metadata, which names the issuer and the scopes.

Scopes decide per request: the read scope sees and calls only read tools (the `--read-only` set); the write
scope includes read and adds every other tool. The caller's token is only ever checked here: Anyreach is
called with the server's own credential, never with a client's token.
"""

from __future__ import annotations

from typing import Any, cast

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.routes import create_protected_resource_routes
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_anyreach.server.read_only import called_tool, is_write_tool
from mcp_anyreach.server.registry import select_tools
from mcp_anyreach.settings import Settings

# The read scope gets exactly what --read-only serves: one definition of "read" for both.
READ_TOOLS = frozenset(spec.name for spec in select_tools(read_only=True))


class OAuthConfigError(ValueError):
    """The OAuth settings are incomplete or contradictory; the message says what to set."""


def check_oauth(settings: Settings) -> None:
    """Refuse, before anything starts, an OAuth set-up that could not work."""
    if settings.oauth_issuer is None:
        return
    if settings.resource_url is None:
        raise OAuthConfigError(
            "MCP_ANYREACH_OAUTH_ISSUER needs MCP_ANYREACH_RESOURCE_URL, the URL clients use to reach this server "
            "(e.g. https://mcp.example.com/mcp): tokens must be issued for it (their audience)."
        )
    if settings.transport != "streamable-http":
        raise OAuthConfigError("OAuth sign-in works on --transport streamable-http only.")
    if settings.http_token is not None:
        raise OAuthConfigError(
            "Set either MCP_ANYREACH_OAUTH_ISSUER or MCP_ANYREACH_HTTP_TOKEN, not both: with OAuth, every caller "
            "signs in and the audit log names them."
        )


def server_options(settings: Settings) -> dict[str, Any]:
    """`MCPServer` keyword arguments for OAuth: the auth settings, the token verifier, the scope filter."""
    check_oauth(settings)
    if settings.oauth_issuer is None or settings.resource_url is None:
        return {}
    from mcp_anyreach.server.http.oauth_jwt import JwtVerifier  # PyJWT and cryptography: only when signing in

    verifier = JwtVerifier(
        settings.oauth_issuer,
        settings.resource_url,
        jwks_url=settings.oauth_jwks_url,
        read_scope=settings.oauth_read_scope,
        write_scope=settings.oauth_write_scope,
    )
    return {
        "auth": _auth_settings(settings),
        "token_verifier": verifier,
        "middleware": [ScopeFilter(settings.oauth_write_scope)],
    }


def _auth_settings(settings: Settings) -> AuthSettings:
    # Validated from strings, so that an issuer without a path keeps its exact spelling (no "/" added):
    # clients and tokens compare issuers as strings.
    return AuthSettings.model_validate(
        {
            "issuer_url": settings.oauth_issuer,
            "resource_server_url": settings.resource_url,
            "required_scopes": [settings.oauth_read_scope],
            "validate_token_resource": False,  # the verifier checks the audience itself
        }
    )


def publish_scopes(app: ASGIApp, settings: Settings) -> ASGIApp:
    """Protected Resource Metadata that lists both scopes, answered in front of `app`.

    The SDK's own document lists only the required (read) scope, and clients ask for what it lists.
    """
    if settings.oauth_issuer is None or settings.resource_url is None:
        return app
    auth = _auth_settings(settings)
    assert auth.resource_server_url is not None
    routes = create_protected_resource_routes(
        resource_url=auth.resource_server_url,
        authorization_servers=[auth.issuer_url],
        scopes_supported=[settings.oauth_read_scope, settings.oauth_write_scope],
        resource_name="Anyreach telephony (mcp-anyreach)",
    )

    async def with_metadata(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in routes:
                match, child_scope = route.matches(scope)
                if match == Match.FULL:
                    await route.handle({**scope, **child_scope}, receive, send)
                    return
        await app(scope, receive, send)

    return with_metadata


class ScopeFilter:
    """Server middleware: a caller without the write scope sees and may call read tools only.

    It runs before a tool's gate, so a refused call never previews, asks the user, or mints a token. The
    refusal is the JSON-RPC error for a tool the caller was not shown (invalid params), saying how to get it.
    """

    def __init__(self, write_scope: str) -> None:
        self._write_scope = write_scope

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        token = get_access_token()
        if token is None or self._write_scope in token.scopes:
            return await call_next(ctx)
        name = called_tool(ctx)
        if is_write_tool(name):
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"This caller is read-only: its sign-in has only the read scope, so {name} is not offered "
                f"and nothing was done. Sign in again with the {self._write_scope} scope, or ask an administrator "
                "for it.",
            )
        if ctx.method == "tools/call" and name not in READ_TOOLS:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool {name!r}; nothing was done.")
        result = await call_next(ctx)
        if ctx.method == "tools/list" and isinstance(result, dict):  # the wire form, in both protocol eras
            listed = cast(list[dict[str, Any]], result.get("tools", []))
            return {**result, "tools": [tool for tool in listed if tool.get("name") in READ_TOOLS]}
        return result
