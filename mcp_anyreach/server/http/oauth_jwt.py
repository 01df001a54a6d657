"""Checks JWT access tokens from one issuer against the keys it publishes (JWKS), with PyJWT."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

import anyio
import anyio.to_thread
import httpx2
import jwt
from mcp.server.auth.provider import AccessToken

logger = logging.getLogger("mcp_anyreach.server")
# Asymmetric only: an HMAC algorithm would let anyone holding the public key sign tokens.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
LEEWAY_SECONDS = 30  # clock difference tolerated between the issuer and this server


class JwtVerifier:
    """The SDK's `TokenVerifier` for JWT access tokens from one issuer (PyJWT, keys from the issuer's JWKS)."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        jwks_url: str | None = None,
        read_scope: str,
        write_scope: str,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._jwks_url = jwks_url
        self._read_scope = read_scope
        self._write_scope = write_scope
        self._keys: jwt.PyJWKClient | None = None
        self._discovery = anyio.Lock()

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            keys = await self._key_set()
            claims = await anyio.to_thread.run_sync(self._decode, keys, token)
        except (jwt.PyJWTError, IssuerUnreachableError) as exc:
            logger.info("bearer token refused: %s", exc)  # the reason, never the token
            return None
        scopes = self._scopes(claims)
        subject = str(claims["sub"])
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or subject),
            scopes=scopes,
            expires_at=int(claims["exp"]),
            resource=self._audience,
            subject=subject,
            claims={"iss": claims["iss"], **({"email": claims["email"]} if "email" in claims else {})},
        )

    def _decode(self, keys: jwt.PyJWKClient, token: str) -> dict[str, Any]:
        key = keys.get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            audience=self._audience,
            issuer=self._issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )

    def _scopes(self, claims: Mapping[str, Any]) -> list[str]:
        """From `scope` (a space-separated string, RFC 9068) or `scp` (a list or string, Okta and Entra)."""
        granted: set[str] = set()
        for claim in (claims.get("scope"), claims.get("scp")):
            if isinstance(claim, str):
                granted.update(claim.split())
            elif isinstance(claim, list):
                granted.update(str(item) for item in cast(list[object], claim))
        if self._write_scope in granted:
            granted.add(self._read_scope)  # writing includes reading
        return sorted(granted)

    async def _key_set(self) -> jwt.PyJWKClient:
        async with self._discovery:
            if self._keys is None:
                url = self._jwks_url or await self._discover_jwks_url()
                self._keys = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=300, timeout=10)
            return self._keys

    async def _discover_jwks_url(self) -> str:
        """The issuer's `jwks_uri`, from its OpenID Connect discovery or OAuth server metadata (RFC 8414)."""
        base = self._issuer.rstrip("/")
        candidates = (f"{base}/.well-known/openid-configuration", _rfc8414_url(self._issuer))
        async with httpx2.AsyncClient(timeout=10.0, follow_redirects=False) as http:
            for url in candidates:
                try:
                    response = await http.get(url)
                except httpx2.HTTPError as exc:
                    raise IssuerUnreachableError(f"the issuer's metadata at {url} could not be read: {exc}") from exc
                if response.is_success:
                    metadata = cast(dict[str, Any], response.json())
                    if metadata.get("issuer") != self._issuer:
                        raise IssuerUnreachableError(f"the metadata at {url} names another issuer")
                    return str(metadata["jwks_uri"])
        raise IssuerUnreachableError(f"{self._issuer} publishes no metadata; set MCP_ANYREACH_OAUTH_JWKS_URL")


class IssuerUnreachableError(Exception):
    """The issuer's keys could not be found; no token can be checked until they are."""


def _rfc8414_url(issuer: str) -> str:
    scheme, _, rest = issuer.partition("://")
    host, _, path = rest.partition("/")
    return f"{scheme}://{host}/.well-known/oauth-authorization-server{'/' + path.rstrip('/') if path else ''}"
