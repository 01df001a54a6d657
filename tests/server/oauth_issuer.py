"""A local OAuth issuer made for the tests: its own RSA key, its JWKS served on loopback."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import jwt
from anyio.abc import Process
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.server.loopback import free_port, serving
from tests.server.procs import RunningServer


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class LocalIssuer:
    port: int
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, audience: str, scope: str, *, key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
        """An access token for `audience` with `scope`; keyword arguments override or add claims."""
        now = int(time.time())
        payload = {
            "iss": self.url,
            "sub": "auth0|alice",
            "aud": audience,
            "iat": now,
            "exp": now + 600,
            "scope": scope,
            "email": "alice@example.com",
            "client_id": "claude-desktop",
        } | claims
        kid = self.kid if key is None else uuid.uuid4().hex
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid})

    def app(self) -> Starlette:
        async def discovery(request: Request) -> JSONResponse:
            return JSONResponse({"issuer": self.url, "jwks_uri": f"{self.url}/jwks.json"})

        async def jwks(request: Request) -> JSONResponse:
            public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return JSONResponse({"keys": [public | {"kid": self.kid, "use": "sig", "alg": "RS256"}]})

        return Starlette(routes=[Route("/.well-known/openid-configuration", discovery), Route("/jwks.json", jwks)])


@asynccontextmanager
async def local_issuer() -> AsyncGenerator[LocalIssuer]:
    issuer = LocalIssuer(free_port())
    async with serving(issuer.app(), issuer.port):
        yield issuer


# Replicas whose callers sign in, as docs/deployment.md runs them: a confirmation token is bound to
# the signed-in caller, so it is redeemed on any replica by the same caller.
REPLICAS_RESOURCE = "http://replicas.test/mcp"


def sign_in_env(issuer: LocalIssuer) -> dict[str, str]:
    """The variables that make a server accept the local issuer's tokens issued for `REPLICAS_RESOURCE`."""
    return {"MCP_ANYREACH_OAUTH_ISSUER": issuer.url, "MCP_ANYREACH_RESOURCE_URL": REPLICAS_RESOURCE}


@dataclass(frozen=True)
class SignedInReplica:
    """A running replica and the access token its caller presents (read and write scopes)."""

    server: RunningServer
    bearer: str

    @property
    def process(self) -> Process:
        return self.server.process

    def url(self, path: str = "/mcp") -> str:
        return self.server.url(path)


def signed_in(issuer: LocalIssuer, servers: list[RunningServer]) -> list[SignedInReplica]:
    bearer = issuer.token(REPLICAS_RESOURCE, "anyreach:read anyreach:write")
    return [SignedInReplica(server, bearer) for server in servers]


@asynccontextmanager
async def signed_in_client(replica: SignedInReplica, era: str = "auto") -> AsyncGenerator[Client]:
    """A client of `replica` that presents its caller's access token on every request."""
    headers = {"Authorization": f"Bearer {replica.bearer}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60.0) as http,
        Client(streamable_http_client(replica.url(), http_client=http), mode=era) as client,  # type: ignore[arg-type]
    ):
        yield client
