"""Bearer-token authentication and scope checks, as FastAPI dependencies over the store's credentials."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, cast

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mcp_anyreach.sandbox.errors import Forbidden, Unauthorized
from mcp_anyreach.sandbox.store import Credential, SandboxStore

_bearer = HTTPBearer(
    auto_error=False,
    description="An organization API key (ak_…), or a personal access token (pat_…) with X-Anyreach-Org.",
)


def store_of(request: Request) -> SandboxStore:
    return cast(SandboxStore, request.app.state.store)


def number_limit_of(request: Request) -> int:
    return cast(int, request.app.state.number_limit)


def authenticate(store: SandboxStore, token: str | None, org_header: str | None) -> Credential:
    if not token:
        raise Unauthorized("Missing credentials; send Authorization: Bearer <ak_… or pat_… token>")
    if not token.startswith(("ak_", "pat_")):
        raise Unauthorized("Unrecognised token format; tokens start with ak_ or pat_")
    credential = store.organizations.credential(token)
    if credential is None:
        raise Unauthorized("Unknown or revoked token")
    if token.startswith("pat_"):
        if not org_header:
            raise Unauthorized("A personal access token (pat_) needs the X-Anyreach-Org header naming the organization")
        if org_header != credential.organization_id:
            raise Unauthorized(f"This token is not a member of organization {org_header}")
    return credential


def authorize(credential: Credential, any_of: tuple[str, ...]) -> str:
    """Return the organization id if the credential holds one of the scopes."""
    if credential.scopes.isdisjoint(any_of):
        raise Forbidden(f"Missing scope: {' or '.join(any_of)}")
    return credential.organization_id


def requires(*any_of: str) -> Callable[..., Awaitable[str]]:
    """A dependency answering the caller's organization id once the token is valid and holds a scope."""

    async def organization_id(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        x_anyreach_org: Annotated[str | None, Header(description="Organization id; required with pat_ tokens.")] = None,
    ) -> str:
        token = credentials.credentials if credentials else None
        return authorize(authenticate(store_of(request), token, x_anyreach_org), any_of)

    return organization_id


Store = Annotated[SandboxStore, Depends(store_of)]
NumberLimit = Annotated[int, Depends(number_limit_of)]
