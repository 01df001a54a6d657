"""Who is calling: the signed-in user of this request (OAuth), for the audit log and confirmation tokens."""

from __future__ import annotations

from mcp.server.auth.middleware.auth_context import get_access_token


def caller_identity() -> str | None:
    """`sub`, followed by `<email>` when the token carries one; None without OAuth sign-in (stdio, static token).

    Stable for as long as a confirmation token lives, and unique within the one configured issuer.
    """
    token = get_access_token()
    if token is None or token.subject is None:
        return None
    email = (token.claims or {}).get("email")
    return f"{token.subject} <{email}>" if email else token.subject


def may_write(write_scope: str) -> bool:
    """Whether this request may call write tools: without OAuth sign-in always, else with `write_scope` (the
    rule the OAuth scope filter applies to tool calls)."""
    token = get_access_token()
    return token is None or write_scope in token.scopes
