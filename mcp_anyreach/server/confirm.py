"""Confirmation gates: a human's yes through elicitation, or a signed one-time token.

A gated tool declares a parameter `Annotated[Approval, Resolve(gate)]`. The gate previews the change
(a sentence a person can judge, plus a fingerprint of the state it touches) and then:

- `--no-confirm`: clears it at once (the pipeline has its own approval);
- a `confirmation_token` argument: clears it when the token is genuine, unexpired, unused, for this tool
  and these exact arguments, and the state still has the fingerprint it had at preview time;
- a client that can elicit: asks the human (`Elicit`, which works in both protocol eras);
- any other client: nothing happens yet; the tool answers `confirmation_required` with a fresh token.

Tokens are HMAC-signed and carry everything needed to check them, so replicas sharing the secret accept
each other's tokens; the only server-side state is the record of used ones (see used_tokens.py), which
replicas share too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context, Elicit
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field, SecretStr

from mcp_anyreach.server.used_tokens import MemoryUsedTokens, UsedTokens, UsedTokensBusy

TOKEN_PREFIX = "ct1"  # noqa: S105 - a format tag, not a secret
# From this protocol version on, questions ride in the call's result, not in a request from the server.
MODERN_PROTOCOL = "2026-07-28"


@dataclass(frozen=True, slots=True)
class Preview:
    """What a gated call would do (for the human) and the state it depends on (for the token)."""

    summary: str
    state: object


PreviewFn = Callable[[Mapping[str, Any]], Awaitable[Preview]]


class Approval(BaseModel):
    """The elicitation form: one checkbox. The gate's own verdicts are subclasses of it."""

    confirm: bool = Field(title="Proceed", description="Check to go ahead; leave unchecked to do nothing.")


class Cleared(Approval):
    """Cleared without asking now: by a valid token or by `--no-confirm`."""

    via: str
    summary: str


class TokenRequired(Approval):
    """The client cannot be asked: return this preview and token, change nothing."""

    summary: str
    confirmation_token: str
    expires_in_seconds: int


class ConfirmationError(ToolError):
    """A confirmation token was refused; the message says how to get a valid one."""


class TokenSigner:
    """Mints and checks confirmation tokens. `clock` returns epoch seconds."""

    def __init__(
        self,
        secret: bytes,
        *,
        ttl_seconds: int = 300,
        clock: Callable[[], float] = time.time,
        used: UsedTokens | None = None,
        audience: str = "",
    ) -> None:
        self._secret = secret
        self._ttl = ttl_seconds
        self._clock = clock
        self._used = used or MemoryUsedTokens()
        self._audience = audience

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def mint(self, tool: str, args: Mapping[str, Any], state: object) -> str:
        claims = {
            "o": self._audience,
            "t": tool,
            "a": self._digest(args),
            "s": self._digest(state),
            "e": int(self._clock()) + self._ttl,
            "n": secrets.token_urlsafe(9),
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{TOKEN_PREFIX}.{payload}.{self._sign(payload)}"

    async def redeem(self, token: str, tool: str, args: Mapping[str, Any], state: object) -> None:
        """Accept the token once, or raise ConfirmationError saying why and what to do."""
        claims = self._verified_claims(token)
        again = f"Call {tool} again without confirmation_token to get a fresh preview and token."
        if claims.get("o") != self._audience:
            raise ConfirmationError(f"This confirmation token was issued for another account or server. {again}")
        if claims.get("t") != tool:
            raise ConfirmationError(f"This confirmation token was issued for another tool. {again}")
        if claims.get("a") != self._digest(args):
            raise ConfirmationError(f"The arguments differ from the ones that were previewed. {again}")
        now = self._clock()
        if not isinstance(claims.get("e"), int) or claims["e"] < now:
            raise ConfirmationError(f"This confirmation token has expired. {again}")
        if claims.get("s") != self._digest(state):
            raise ConfirmationError(f"What this call touches has changed since the preview. {again}")
        try:
            fresh = await self._used.claim(str(claims.get("n")), float(claims["e"]), now)
        except UsedTokensBusy:
            raise ConfirmationError(
                "The record of used confirmation tokens is busy, so nothing was done and the token is still "
                "unused. Repeat the same call, with the same confirmation_token, in a few seconds."
            ) from None
        if not fresh:
            raise ConfirmationError(f"This confirmation token was already used. {again}")

    def _verified_claims(self, token: str) -> dict[str, Any]:
        invalid = ConfirmationError(
            "This confirmation token is not valid (altered, truncated, or from another server). "
            "Call the tool again without confirmation_token to get a fresh preview and token."
        )
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise invalid
        if not hmac.compare_digest(self._sign(parts[1]), parts[2]):
            raise invalid
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError as exc:
            raise invalid from exc
        if not isinstance(claims, dict):
            raise invalid
        return dict(claims)  # type: ignore[arg-type]  # JSON object keys are strings

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def fingerprint(self, state: object) -> str:
        return self._digest(state)

    def _digest(self, value: object) -> str:
        # Keyed, because arguments may hold a SIP password and the token is shown to the model.
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)
        return _b64(hmac.new(self._secret, canonical.encode(), hashlib.sha256).digest()[:18])


class Gatekeeper:
    """Builds the resolver of each gated tool."""

    REMEMBERED = 1000

    def __init__(self, signer: TokenSigner, *, no_confirm: bool, stateless: bool = False) -> None:
        self._signer = signer
        self._no_confirm = no_confirm
        self._stateless = stateless
        self._previews: dict[str, PreviewFn] = {}
        self._asked: dict[str, str] = {}  # request id -> fingerprint of the state the human was shown

    async def unchanged_since_asked(self, ctx: Context, tool: str, args: Mapping[str, Any]) -> bool:
        """After a human's yes: is the state still the one the question described?

        The token path checks this when the token is redeemed; a person may take minutes to answer.
        """
        asked = self._asked.pop(ctx.request_id, None)
        seen = await self._previews[tool](args)
        return asked is not None and asked == self._signer.fingerprint(seen.state)

    def gate(
        self, tool: str, preview: PreviewFn, *arg_names: str
    ) -> Callable[..., Awaitable[Approval | Elicit[Approval]]]:
        """A resolver that receives `arg_names` (the tool's arguments, by name) and `confirmation_token`."""

        async def resolve(ctx: Context, **kwargs: Any) -> Approval | Elicit[Approval]:
            token: str | None = kwargs.pop("confirmation_token", None)
            seen = await preview(kwargs)
            if self._no_confirm:
                return Cleared(confirm=True, via="no_confirm", summary=seen.summary)
            if token:
                await self._signer.redeem(token, tool, kwargs, seen.state)
                return Cleared(confirm=True, via="token", summary=seen.summary)
            if self._can_ask(ctx):
                fingerprint = self._signer.fingerprint(seen.state)
                self._remember(ctx.request_id, fingerprint)
                # The reference changes with the state, so a multi-round client is asked again, never
                # answered from a yes given to a state that has since changed.
                return Elicit(f"{seen.summary}\n\nProceed? (preview {fingerprint[:8]})", Approval)
            return TokenRequired(
                confirm=False,
                summary=seen.summary,
                confirmation_token=self._signer.mint(tool, kwargs, seen.state),
                expires_in_seconds=self._signer.ttl_seconds,
            )

        self._previews[tool] = preview
        params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
        params += [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in (*arg_names, "confirmation_token")
        ]
        resolve.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]  # the SDK passes args by name
        resolve.__qualname__ = f"gate_{tool}"
        return resolve

    def _can_ask(self, ctx: Context) -> bool:
        capabilities = ctx.client_capabilities
        if capabilities is None or capabilities.elicitation is None:
            return False
        # A stateless server cannot send a legacy client a request mid-call; the token path still works.
        return not self._stateless or (ctx.protocol_version or "") >= MODERN_PROTOCOL

    def _remember(self, request_id: str, fingerprint: str) -> None:
        self._asked[request_id] = fingerprint
        while len(self._asked) > self.REMEMBERED:
            del self._asked[next(iter(self._asked))]  # the oldest


def _plain(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return str(value)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
