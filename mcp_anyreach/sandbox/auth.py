"""Bearer-token authentication and scope checks, as FastAPI dependencies over the store's credentials."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, cast

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mcp_anyreach.sandbox.errors import Forbidden, Unauthorized
from mcp_anyreach.sandbox.store import Credential, SandboxStore, TokenHolder

_bearer = HTTPBearer(
    auto_error=False,
    description="An organization API key (ak_…), or a personal access token (pat_…) with X-Anyreach-Org.",
)

_ORG_HEADER = "Organization id: required with a pat_ token (any of its user's organizations); an ak_ key takes its own."


def store_of(request: Request) -> SandboxStore:
    return cast(SandboxStore, request.app.state.store)


def number_limit_of(request: Request) -> int:
    return cast(int, request.app.state.number_limit)


def authenticate(store: SandboxStore, token: str | None, org_header: str | None) -> Credential:
    """The credential as it acts in this request: an ak_ key in its organization, a pat_ in the one it names."""
    if not token:
        raise Unauthorized("Missing credentials; send Authorization: Bearer <ak_… or pat_… token>")
    if not token.startswith(("ak_", "pat_")):
        raise Unauthorized("Unrecognised token format; tokens start with ak_ or pat_")
    if token.startswith("pat_"):
        return _as_member(store, token, org_header)
    credential = store.organizations.credential(token)
    if credential is None:
        raise Unauthorized("Unknown or revoked token")
    if org_header and org_header != credential.organization_id:
        raise Forbidden(
            f"This API key acts only in its own organization {credential.organization_id}, not in {org_header}; "
            "drop X-Anyreach-Org, or use a personal access token of a member of that organization"
        )
    return credential


def _as_member(store: SandboxStore, token: str, org_header: str | None) -> Credential:
    holder = store.users.holder(token)
    if holder is None:
        # A personal token stored as one organization's credential (the seed's per-organization tokens, and
        # every pat_ of a database written before users existed) belongs to a member of that organization only.
        credential = store.organizations.credential(token)
        if credential is None:
            raise Unauthorized("Unknown or revoked token")
        holder = TokenHolder(frozenset((credential.organization_id,)), credential.scopes)
    if not org_header:
        raise Unauthorized("A personal access token (pat_) needs the X-Anyreach-Org header naming the organization")
    if org_header not in holder.organization_ids:
        raise Forbidden(
            f"The user of this personal access token is not a member of organization {org_header}; "
            "set X-Anyreach-Org to an organization the user belongs to"
        )
    return Credential(token, org_header, holder.scopes)


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
        x_anyreach_org: Annotated[str | None, Header(description=_ORG_HEADER)] = None,
    ) -> str:
        token = credentials.credentials if credentials else None
        return authorize(authenticate(store_of(request), token, x_anyreach_org), any_of)

    return organization_id


Store = Annotated[SandboxStore, Depends(store_of)]
NumberLimit = Annotated[int, Depends(number_limit_of)]
