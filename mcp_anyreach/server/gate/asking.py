"""What a gated call is shown and how it is answered, before anything is written (calls.py draws the whole gate).

A gated tool (its registry row says gated; its `preview_<tool>` sits beside it) takes a `verdict: Verdict`
parameter; when the tool is built (tool_factory.py), `Asking.gate` turns its preview and signature into the
resolvers the SDK runs before the tool body. The call is then answered in one of these ways:

- `--no-confirm`: cleared at once (the pipeline has its own approval);
- a client that can elicit is asked (`Elicit`, in both protocol eras); a token from it is refused;
- a `confirmation_token` from any other client: cleared when `TokenSigner.redeem` accepts it; the same call
  repeated with a token already used for it (a client that lost its connection retries) is answered, without a
  preview and without writing, from the first use's outcome, stored with the used token (`repeat`; or told that
  the first use has not finished); a token whose first use failed stays spent, but one whose change set stopped
  part-way (cancelled, or at a failed step) is answered with what ran;
- otherwise nothing happens yet; the tool answers `confirmation_required` with a fresh token;
- except on HTTP for a caller with neither a session (`--stateless`, the 2026-07-28 protocol) nor a sign-in:
  a token could not be bound to it, so any client of the server (or of its replicas) could redeem it. Such a
  caller is asked if its client can be, and otherwise refused, saying what would work.

Running what was approved is gatekeeper.py's `Gatekeeper`, which builds on this class.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, TypedDict

from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ValidationError

from mcp_anyreach.domain.records import Gated
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.text import neutral
from mcp_anyreach.server import sdk
from mcp_anyreach.server.gate.audit_log import AuditLog
from mcp_anyreach.server.gate.calls import GateOutcome, Holdings, PreviewFn, Seen, Verdict, cause, modern
from mcp_anyreach.server.gate.tokens import (
    Approval,
    Cleared,
    ConfirmationError,
    Preview,
    Repeated,
    StoreUnavailable,
    TokenRequired,
    TokenSigner,
)
from mcp_anyreach.shared_state.used_tokens import FirstUse

logger = logging.getLogger("mcp_anyreach.server")
REPEATED = "Already done (this confirmation token was used once): "
REPEATED_PART = "Already run part-way (this confirmation token was used once): "


class Asking:
    """Builds each gated tool's resolvers: its preview, its question or token, and the answer to a repeat."""

    def __init__(
        self,
        signer: TokenSigner,
        audit: AuditLog,
        *,
        no_confirm: bool,
        stateless: bool = False,
        http: bool = False,
        holdings: Holdings | None = None,
    ) -> None:
        self._signer = signer
        self._holdings = holdings
        self._audit = audit
        self._no_confirm = no_confirm
        self._stateless = stateless
        self._http = http
        self._previews: dict[str, PreviewFn] = {}
        self._outcomes: dict[str, type[BaseModel]] = {}

    def register(self, tool: str, preview: PreviewFn, outcome: type[BaseModel] = Gated[Any]) -> None:
        """`tool`'s preview, and its Gated[...] outcome model (to answer a repeated call with)."""
        self._previews[tool] = preview
        self._outcomes[tool] = outcome

    def gate(
        self,
        tool: str,
        preview: PreviewFn,
        arg_names: Sequence[str],
        outcome: type[BaseModel] = Gated[Any],
        *,
        keeper: Callable[[], Asking] | None = None,
    ) -> Resolve:
        """The verdict resolver of `tool`, whose preview receives `arg_names` (its arguments) by name and which
        returns `outcome`. `keeper` picks the gatekeeper of each call (that of the organization it names, each
        with the tool registered); by default this one."""
        self.register(tool, preview, outcome)
        current = keeper or (lambda: self)

        async def seen(ctx: Context, confirmation_token: str | None, **arguments: Any) -> Seen:
            # A repeat is answered before any preview: what the first call changed (a number bought) may no
            # longer preview at all.
            gatekeeper = current()
            first = await gatekeeper._first_use(ctx, tool, arguments, confirmation_token)
            if isinstance(first, FirstUse) and first.state != "failed":
                return Seen(arguments, Preview("", None), first)
            spent = None if first == "unread" else first is not None  # one read serves `redeem` too
            return Seen(arguments, await gatekeeper._preview(tool, arguments), spent=spent)

        async def answer(ctx: Context, seen: Seen, confirmation_token: str | None) -> Approval | Elicit[Approval]:
            return await current()._answer(ctx, tool, seen, confirmation_token)

        async def verdict(seen: Seen, answer: GateOutcome) -> Verdict:
            return Verdict(tool, seen.arguments, seen.preview, answer)

        # The SDK reads resolver parameters from signatures and annotations; these are made per tool, so
        # they are set here rather than written (a string annotation could not name a closure's local).
        seen.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY)
                for name in ("ctx", "confirmation_token", *arg_names)
            ]
        )
        seen.__annotations__ = {"ctx": Context, "confirmation_token": str | None, "return": Seen}
        answer.__annotations__ = {
            "ctx": Context,
            "seen": Annotated[Seen, Resolve(seen)],
            "confirmation_token": str | None,
            "return": Approval | Elicit[Approval],
        }
        verdict.__annotations__ = {
            "seen": Annotated[Seen, Resolve(seen)],
            "answer": Annotated[GateOutcome, Resolve(answer)],
            "return": Verdict,
        }
        for resolver in (seen, answer, verdict):
            resolver.__qualname__ = f"gate.{tool}.{resolver.__name__}"  # the question's stable wire key
        return Resolve(verdict)

    def offer_token(self, ctx: Context, tool: str, arguments: Mapping[str, Any], preview: Preview) -> str | None:
        """A confirmation token for `tool` with these arguments, when another tool has just shown its preview
        (plan_changes shows what apply_changes would do), so that a client that cannot be asked confirms in one
        call. None when no token is needed: the client will be asked, or --no-confirm is on."""
        if self._no_confirm or self._can_ask(ctx) or self._unbindable(ctx):
            return None
        self._audit.record(tool, arguments, outcome="confirmation_required", via="token", **self._seen(ctx, preview))
        return self._signer.mint(tool, arguments, preview, self._binding(ctx))

    @property
    def token_ttl_seconds(self) -> int:
        return self._signer.ttl_seconds

    async def _first_use(
        self, ctx: Context, tool: str, arguments: Mapping[str, Any], token: str | None
    ) -> FirstUse | Literal["unread"] | None:
        """How this same call's first use of `token` went (None: the token is unused), for a repeat or for `_answer`
        to redeem the token with; "unread" where `_answer` will refuse the token or must read its use itself."""
        if not token or self._no_confirm or self._can_ask(ctx) or self._unbindable(ctx):
            return "unread"
        try:
            return await self._signer.first_use(token, tool, arguments, self._binding(ctx))
        except ConfirmationError:  # not this call's token, or the store is unreachable: redeeming it will say so
            return "unread"

    def repeat(self, verdict: Verdict) -> BaseModel:
        """The answer to a call that repeats its token's first use (`verdict.repeat`), given instead of running the
        tool: the tool's body may read a preview that a repeat does not make."""
        tool, arguments, first = verdict.tool, verdict.arguments, verdict.repeat
        assert first is not None
        if first.state != "done":
            self._audit.record(tool, arguments, outcome="refused: its first use has not finished", via="token")
            raise ToolError(
                f"Nothing was done now: {tool} already runs with this confirmation token, or its server stopped "
                "before recording how it ended. Check the current state with a get_ or list_ tool before doing "
                "anything else; do not call it again with a new token unless that shows the change is not made."
            )
        stored = json.loads(first.outcome)
        self._audit.record(tool, arguments, outcome="repeat: answered with the first outcome", via="token")
        status = stored.get("status", "done")  # "partial": a change set cancelled, or stopped by a failed step
        message = (REPEATED if status == "done" else REPEATED_PART) + stored["done"]
        answer = {"status": status, "message": message, "result": stored["result"], "repeat": True}
        if stored.get("undo_id"):
            answer["undo_id"] = stored["undo_id"]
        try:
            return self._outcomes[tool].model_validate(answer)
        except ValidationError:  # stored by a replica whose result model differs: the outcome as it was kept
            return Gated[Any].model_validate(answer)

    async def _preview(self, tool: str, arguments: Mapping[str, Any]) -> Preview:
        try:
            preview = await self._previews[tool](**arguments)
        except ToolError:
            raise
        except Refusal as exc:
            raise ToolError(str(exc)) from exc
        except Exception as exc:
            logger.exception("preview of %s failed", tool)
            raise ToolError(f"{tool} could not preview the change ({cause(exc)}); nothing was changed.") from exc
        return Preview(neutral(preview.summary), preview.state, preview.targets)

    async def _answer(self, ctx: Context, tool: str, seen: Seen, token: str | None) -> Approval | Elicit[Approval]:
        if self._no_confirm:
            return Cleared(confirm=True, via="no_confirm")
        can_ask = self._can_ask(ctx)
        if token and can_ask:
            raise ToolError(
                "This client can ask its user directly, so a confirmation_token is not accepted from it. Call "
                f"{tool} again without confirmation_token: the user will be shown the change and asked."
            )
        if not can_ask and self._unbindable(ctx):
            self._audit.record(
                tool,
                seen.arguments,
                outcome="refused: no session or sign-in to bind a token to",
                via="token",
                **self._seen(ctx, None),
            )
            raise ToolError(
                f"Nothing was done: {tool} needs a person's yes, and this client can neither be asked (it does not "
                "support elicitation) nor be given a confirmation token: on HTTP without sign-in, a request on the "
                "2026-07-28 protocol or to a --stateless server belongs to no session, so any other client of this "
                "server could redeem the token. Use a client that can ask its user, connect with the 2025-11-25 "
                "protocol to a server without --stateless, or ask the operator to turn on OAuth sign-in "
                "(MCP_ANYREACH_OAUTH_ISSUER)."
            )
        if token:
            if seen.first is not None:
                return Repeated(confirm=True, first=seen.first)
            try:
                binding = self._binding(ctx)
                redeemed = await self._signer.redeem(
                    token, tool, seen.arguments, seen.preview, binding, spent=seen.spent
                )
            except ConfirmationError as exc:
                verdict = "failed" if isinstance(exc, StoreUnavailable) else "refused"
                self._audit.record(
                    tool, seen.arguments, outcome=f"{verdict}: {exc}", via="token", **self._seen(ctx, None)
                )
                raise ToolError(str(exc)) from None
            return Cleared(confirm=True, via="token", redeemed=redeemed)
        if can_ask:
            # The reference changes with the state, so a multi-round client is asked again, never
            # answered from a yes given to a state that has since changed.
            fingerprint = self._signer.fingerprint(seen.preview.state)
            return Elicit(f"{seen.preview.summary}\n\nProceed? (preview {fingerprint[:8]})", Approval)
        minted = self._signer.mint(tool, seen.arguments, seen.preview, self._binding(ctx))
        return TokenRequired(confirm=False, confirmation_token=minted, expires_in_seconds=self._signer.ttl_seconds)

    def _seen(self, ctx: Context, preview: Preview | None) -> Shown:
        """What the audit names besides the call: the fingerprint of the preview shown or tokened (the one the
        question ends with), and, on HTTP without sign-in, the client connection of a legacy-era session."""
        session = None
        if self._http and not (self._stateless or modern(ctx)) and sdk.caller() == "-":
            session = sdk.connection_key(ctx)
        return Shown(preview=None if preview is None else self._signer.fingerprint(preview.state), session=session)

    def _can_ask(self, ctx: Context) -> bool:
        capabilities = ctx.client_capabilities
        if capabilities is None or capabilities.elicitation is None:
            return False
        # A stateless server cannot send a legacy client a request mid-call; the token path still works.
        return not self._stateless or modern(ctx)

    def _unbindable(self, ctx: Context) -> bool:
        """A token for this request could be redeemed by anyone: on HTTP it has no session and no signed-in caller
        (one shared MCP_ANYREACH_HTTP_TOKEN names nobody). stdio serves one client per process."""
        return self._http and (self._stateless or modern(ctx)) and sdk.caller() == "-"

    def _binding(self, ctx: Context) -> str:
        """Who may redeem a token: the session that saw its preview, or, where requests share no session
        (stateless replicas, the modern protocol), the caller that the HTTP layer authenticated."""
        if self._stateless or modern(ctx):
            return f"caller:{sdk.caller()}"
        return f"session:{sdk.connection_key(ctx)} caller:{sdk.caller()}"


class Shown(TypedDict):
    """What an audit line names besides the call: `Asking._seen`."""

    preview: str | None
    session: str | None
