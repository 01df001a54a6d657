"""Confirmation tokens: signed, one-time proofs that a human was shown a preview.

A client that cannot ask its user (no elicitation) gets a preview and a token instead of a change. The
token is HMAC-signed and carries everything needed to check it, so replicas sharing the secret accept
each other's tokens. It is refused unless it is for this server's account (audience), this tool, these
exact arguments and the session or caller that received the preview (binding); unexpired; unused; and
the state it touches still has the fingerprint it had at preview time and was not written since by
anyone else. The only server-side state is the record of used tokens, how each first use ended, and recent
writes (used_tokens.py), which replicas share too.

A call repeated with a used token (a client that lost its connection sends it again) passes the same checks
but the state's: `first_use` then says how the first use ended, and the gate answers from that instead of
writing twice.

What this guards against: accidents, a model acting on injected text in one call, stale previews, a
token carried to another session. What it cannot: a client that never shows its user the preview.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from mcp_anyreach.shared_state.used_tokens import FirstUse, MemoryUsedTokens, UsedTokens, UsedTokensBusy

R = TypeVar("R")
TOKEN_PREFIX = "ct1"  # noqa: S105 - a format tag, not a secret


@dataclass(frozen=True, slots=True)
class Preview:
    """What a gated call would do (for the human), the state it depends on, and what it writes.

    `targets` are the resource URIs of the things the call changes: a write to one of them by anyone
    else after the preview invalidates its token, even when the state looks the same again.
    """

    summary: str
    state: object
    targets: tuple[str, ...] = ()


# The elicitation form: one checkbox. Its title and description are what the human reads (a docstring here
# would become the form's text), and the gate's own verdicts below are subclasses of it.
class Approval(BaseModel):
    model_config = ConfigDict(
        title="Confirm this change", json_schema_extra={"description": "Read the change above, then decide."}
    )

    confirm: bool = Field(title="Proceed", description="Check to go ahead; leave unchecked to do nothing.")


@dataclass(frozen=True, slots=True)
class Redeemed:
    """A token accepted once: its nonce and expiry, under which the gate records how its use ended."""

    nonce: str
    expires_at: float


class Cleared(Approval):
    """Cleared without asking now: by a valid token or by `--no-confirm`."""

    via: str
    redeemed: Redeemed | None = None


class Repeated(Approval):
    """This exact call already came with this token: answer from its first use, change nothing."""

    first: FirstUse


class TokenRequired(Approval):
    """The client cannot be asked: return this preview and token, change nothing."""

    confirmation_token: str
    expires_in_seconds: int


class ConfirmationError(Exception):
    """A confirmation token was refused; the message says why and how to get a valid one."""


class StoreUnavailable(ConfirmationError):
    """The record of used tokens failed: nothing was done, and the token (if any) is still unused."""


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

    def now(self) -> float:
        return self._clock()

    def mint(self, tool: str, args: Mapping[str, Any], preview: Preview, binding: str) -> str:
        now = self._clock()
        claims = {
            "o": self._audience,
            "t": tool,
            "a": self._digest(args),
            "b": self._digest(binding),
            "s": self._digest(preview.state),
            "m": now,
            "e": int(now) + self._ttl,
            "n": secrets.token_urlsafe(9),
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{TOKEN_PREFIX}.{payload}.{self._sign(payload)}"

    async def redeem(
        self,
        token: str,
        tool: str,
        args: Mapping[str, Any],
        preview: Preview,
        binding: str,
        *,
        spent: bool | None = None,
    ) -> Redeemed:
        """Accept the token once, or raise ConfirmationError saying why and what to do. `spent`: whether `first_use`
        found it used, when the caller read it (the record is then not read again: `claim` still refuses a use
        that came in between); None to read it here."""
        claims = self._checked_claims(token, tool, args, binding)
        again = f"Call {tool} again without confirmation_token to get a fresh preview and token."
        expires, minted, nonce = claims["e"], claims["m"], str(claims.get("n"))
        now = self._clock()
        used = f"This confirmation token was already used. {again}"
        if spent is None:
            spent = await self._store(self._used.first_use(nonce, now)) is not None
        if spent:
            raise ConfirmationError(used)
        if claims.get("s") != self._digest(preview.state):
            raise ConfirmationError(f"What this call touches has changed since the preview. {again}")
        verdict = await self._store(
            self._used.claim(nonce, float(expires), now, targets=preview.targets, minted_at=float(minted))
        )
        if verdict == "used":
            raise ConfirmationError(used)
        if verdict == "stale":
            raise ConfirmationError(f"What this call touches was changed by another call since the preview. {again}")
        return Redeemed(nonce, float(expires))

    async def first_use(self, token: str, tool: str, args: Mapping[str, Any], binding: str) -> FirstUse | None:
        """How this token's first use went, when this same call (tool, arguments, caller) may use it (unexpired); None
        when it is unused. Its first use `done` or `running` means this call is a repeat; `failed`, that the token is
        spent. Raises ConfirmationError when the token is not this call's, or the record cannot be read."""
        claims = self._checked_claims(token, tool, args, binding)
        return await self._store(self._used.first_use(str(claims.get("n")), self._clock()))

    async def settle(self, redeemed: Redeemed, outcome: str | None) -> None:
        """Record how a redeemed token's use ended: `outcome` to answer a repeat with, or None when it failed."""
        now = self._clock()
        await self._store(self._used.settle(redeemed.nonce, outcome, expires_at=redeemed.expires_at, now=now))

    def _checked_claims(self, token: str, tool: str, args: Mapping[str, Any], binding: str) -> dict[str, Any]:
        """The token's claims, if it is for this account, tool, arguments and caller and has not expired."""
        claims = self._verified_claims(token)
        again = f"Call {tool} again without confirmation_token to get a fresh preview and token."
        if claims.get("o") != self._audience:
            raise ConfirmationError(f"This confirmation token was issued for another account or server. {again}")
        if claims.get("t") != tool:
            raise ConfirmationError(f"This confirmation token was issued for another tool. {again}")
        if claims.get("a") != self._digest(args):
            raise ConfirmationError(f"The arguments differ from the ones that were previewed. {again}")
        if claims.get("b") != self._digest(binding):
            raise ConfirmationError(
                f"This confirmation token was issued to another session or caller; a token works only where its "
                f"preview was shown. {again}"
            )
        expires, minted = claims.get("e"), claims.get("m")
        if not isinstance(expires, int) or expires < self._clock() or not isinstance(minted, int | float):
            raise ConfirmationError(f"This confirmation token has expired. {again}")
        return claims

    async def record_write(self, targets: tuple[str, ...]) -> None:
        """A write not confirmed by a token (a human's yes, --no-confirm, an ungated tool) is about to run."""
        if targets:
            now = self._clock()
            await self._store(self._used.touch(targets, now, now + self._ttl))

    async def _store(self, pending: Awaitable[R]) -> R:
        try:
            return await pending
        except UsedTokensBusy as exc:
            raise StoreUnavailable(
                f"The record of used confirmation tokens could not be used ({exc}), so nothing was done and the "
                "token is still unused. Repeat the same call, with the same confirmation_token, in a few seconds; "
                "if it keeps failing, the server's operator must fix its token store."
            ) from None

    def _verified_claims(self, token: str) -> dict[str, Any]:
        invalid = ConfirmationError(
            "This confirmation token is not valid (altered, truncated, or from another server). "
            "Call the tool again without confirmation_token to get a fresh preview and token."
        )
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not token.isascii():
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


def _plain(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return str(value)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
