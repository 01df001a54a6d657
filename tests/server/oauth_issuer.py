"""A local OAuth issuer made for the tests: its own RSA key, its JWKS served on loopback."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.server.loopback import free_port, serving


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
async def local_issuer() -> AsyncIterator[LocalIssuer]:
    issuer = LocalIssuer(free_port())
    async with serving(issuer.app(), issuer.port):
        yield issuer
