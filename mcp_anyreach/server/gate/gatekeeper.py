"""The confirmation gate: preview, then a human's yes or a token, then act, audit and notify.

A gated tool (its registry row says gated; its `preview_<tool>` sits beside it) takes a `verdict: Verdict`
parameter; when the tool is built (tool_factory.py), `Gatekeeper.gate` turns its preview and signature into
resolvers.
The SDK runs three of them before the tool body: `seen` (the preview of these validated arguments),
`answer` (depending on `seen`) and `verdict`, which hands the tool the arguments, the preview the human
or the token saw, and the outcome. What the human saw therefore travels with the call itself: there is
no table of pending questions that two sessions could overwrite.

- `--no-confirm`: cleared at once (the pipeline has its own approval);
- a client that can elicit is asked (`Elicit`, in both protocol eras); a token from it is refused;
- a `confirmation_token` from any other client: cleared when `TokenSigner.redeem` accepts it; the same call
  repeated with a token already used for it (a client that lost its connection retries) is answered, without a
  preview and without writing, from the first use's outcome, stored with the used token (or told that the first
  use has not finished); a token whose first use failed stays spent, but one whose change set stopped part-way
  (cancelled, or at a failed step) is answered with what ran;
- otherwise nothing happens yet; the tool answers `confirmation_required` with a fresh token;
- except on HTTP for a caller with neither a session (`--stateless`, the 2026-07-28 protocol) nor a sign-in:
  a token could not be bound to it, so any client of the server (or of its replicas) could redeem it. Such a
  caller is asked if its client can be, and otherwise refused, saying what would work.

`act` then records the intent in the audit log (no record, no write), runs the write, records the
outcome and notifies clients. Every failure says whether anything changed. Ungated writes take a
`write: Write` parameter instead (their validated arguments) and go through `act` too.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict, TypeVar

from mcp.server.mcpserver import (
    AcceptedElicitation,
    CancelledElicitation,
    Context,
    DeclinedElicitation,
    Elicit,
    Resolve,
)
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from mcp_anyreach.domain.records import Gated
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.text import neutral
from mcp_anyreach.domain.uris import COLLECTIONS
from mcp_anyreach.server import sdk
from mcp_anyreach.server.gate.audit_log import AuditLog, AuditUnavailable
from mcp_anyreach.server.gate.tokens import (
    Approval,
    Cleared,
    ConfirmationError,
    Preview,
    Redeemed,
    Repeated,
    StoreUnavailable,
    TokenRequired,
    TokenSigner,
)
from mcp_anyreach.server.notify import notify_changed
from mcp_anyreach.shared_state.used_tokens import FirstUse

logger = logging.getLogger("mcp_anyreach.server")
T = TypeVar("T")
GateOutcome = AcceptedElicitation[Approval] | DeclinedElicitation | CancelledElicitation
PreviewFn = Callable[..., Awaitable[Preview]]
"""Called with the tool's validated arguments by name (all but confirmation_token)."""
Holdings = Callable[[Sequence[str]], Awaitable[list[str]]]
"""What the API holds for each of these target URIs, one line each (holdings.py)."""

# From this protocol version on, questions ride in the call's result, not in a request from the server.
MODERN_PROTOCOL = "2026-07-28"
REPEATED = "Already done (this confirmation token was used once): "
REPEATED_PART = "Already run part-way (this confirmation token was used once): "
_approved: ContextVar[tuple[str, str | None] | None] = ContextVar("mcp_anyreach_approved", default=None)
"""How the write running now was approved, and the fingerprint of its preview: what the writes inside it inherit."""


@dataclass(frozen=True, slots=True)
class Seen:
    arguments: dict[str, Any]
    preview: Preview
    first: FirstUse | None = None  # a repeat: how this call's first use with its token went; nothing was previewed


@dataclass(frozen=True, slots=True)
class Write:
    """What an ungated write tool receives: its name and validated arguments, for the audit log."""

    tool: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a gated tool receives: its validated arguments, the preview shown, and the outcome."""

    tool: str
    arguments: dict[str, Any]
    preview: Preview
    outcome: GateOutcome

    @property
    def repeat(self) -> FirstUse | None:
        """How the first use went, when this call repeats one made with its token: then nothing was previewed, and
        the tool must not run (`Gatekeeper.repeat` answers it)."""
        return (
            self.outcome.data.first
            if isinstance(self.outcome, AcceptedElicitation) and isinstance(self.outcome.data, Repeated)
            else None
        )


class Gatekeeper:
    """Builds each gated tool's resolvers and runs every write: gated or not, audited and notified."""

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
        keeper: Callable[[], Gatekeeper] | None = None,
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
            if first := await gatekeeper._first_use(ctx, tool, arguments, confirmation_token):
                return Seen(arguments, Preview("", None), first)
            return Seen(arguments, await gatekeeper._preview(tool, arguments))

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

    async def run(
        self,
        ctx: Context,
        verdict: Verdict,
        action: Callable[[], Awaitable[T]],
        *,
        changed: Sequence[str] = (),
        read_back: bool = False,
        finish: Callable[[Gated[T]], Gated[T]] | None = None,
        stopped: Callable[[], Awaitable[Gated[T] | None]] | None = None,
    ) -> Gated[T]:
        """Run a gated write only if it was approved; otherwise say why nothing changed.

        After a human's answer the model has not seen the preview, so the outcome carries it; with `read_back`
        (a result that is not the API's new state: a delete, a change set) also what the API now holds for
        each target. A token's outcome stays compact: its caller already showed the preview. `finish` completes a
        done outcome (its undo id) before a token's first use is settled with it, so a repeat answers the same.
        `stopped`, when the write failed, gives what it did before (a change set's "partial" report, or None when
        it did nothing): the call is answered with it, and a token's first use is settled with it, not as failed.
        """
        finish = finish or (lambda gated: gated)
        stopped = stopped or _nothing_done
        tool, arguments, preview = verdict.tool, verdict.arguments, verdict.preview
        match verdict.outcome:
            case AcceptedElicitation(data=TokenRequired() as required):
                self._audit.record(
                    tool, arguments, outcome="confirmation_required", via="token", **self._seen(ctx, preview)
                )
                return Gated[T](
                    status="confirmation_required",
                    message=f"{preview.summary}\nNothing has changed yet. Show this to the user; if they agree, "
                    f"call {tool} again with the same arguments and this confirmation_token "
                    f"(valid {required.expires_in_seconds} s, once).",
                    confirmation_token=required.confirmation_token,
                )
            case AcceptedElicitation(data=Cleared(via=via, redeemed=redeemed)):
                try:
                    result = await self.act(
                        ctx,
                        tool,
                        arguments,
                        action,
                        changed=changed,
                        via=via,
                        targets=preview.targets,
                        shown=preview if via == "token" else None,
                    )
                except ToolError as exc:
                    if (partial := await stopped()) is not None:
                        if redeemed is not None:
                            await self._settle(tool, redeemed, _partial_outcome(partial))
                        return partial
                    if redeemed is None:
                        raise
                    await self._settle(tool, redeemed, None)
                    raise ToolError(
                        f"{exc} The confirmation token is spent: call {tool} again without it to preview again."
                    ) from exc
                # The token came back with the whole preview: its headline is enough to say what was done.
                done = preview.summary.partition("\n")[0] if via == "token" else preview.summary
                finished = finish(Gated[T](status="done", message=f"Done: {done}", result=result))
                if redeemed is not None:
                    outcome = {"done": finished.message.removeprefix("Done: "), "result": result}
                    await self._settle(tool, redeemed, {**outcome, "undo_id": finished.undo_id})
                return finished
            case AcceptedElicitation(data=Approval(confirm=True)):
                now = await self._preview(tool, arguments)
                if self._signer.fingerprint(now.state) != self._signer.fingerprint(preview.state):
                    self._audit.record(
                        tool,
                        arguments,
                        outcome="refused: state changed before the answer",
                        via=None,
                        **self._seen(ctx, preview),
                    )
                    raise ToolError(
                        f"What {tool} touches changed while the user was deciding, so nothing was done. "
                        "Call it again to show the user the current state."
                    )
                try:
                    result = await self.act(
                        ctx,
                        tool,
                        arguments,
                        action,
                        changed=changed,
                        via="elicitation",
                        targets=preview.targets,
                        shown=preview,
                    )
                except ToolError:
                    if (partial := await stopped()) is None:
                        raise
                    return partial
                now = await self._read_back(tool, preview.targets) if read_back else None
                message = f"Done, as the user confirmed. They were shown:\n{preview.summary}"
                return finish(Gated[T](status="done", message=message, result=result, now=now))
            case CancelledElicitation():
                self._audit.record(tool, arguments, outcome="cancelled", via="elicitation", **self._seen(ctx, preview))
                message = f"The user dismissed the confirmation; nothing changed. They were shown:\n{preview.summary}"
                return Gated[T](status="cancelled", message=message)
            case _:
                self._audit.record(tool, arguments, outcome="declined", via="elicitation", **self._seen(ctx, preview))
                message = (
                    f"The user declined; nothing changed. They were shown:\n{preview.summary}\n"
                    f"Ask them what to change before calling {tool} again."
                )
                return Gated[T](status="declined", message=message)

    async def cancelled(self, verdict: Verdict, what_ran: str, result: BaseModel) -> None:
        """Record what a cleared call ran before it was cancelled (its client cancelled it, or the connection
        closed), which `act` cannot: a cancellation is no failure. Called within `act`, the line carries the call
        id of its "attempted" line. A token's first use is settled with it, so that the call repeated with that token
        is answered with it."""
        answer = verdict.outcome.data if isinstance(verdict.outcome, AcceptedElicitation) else None
        via = answer.via if isinstance(answer, Cleared) else "elicitation"
        if isinstance(answer, Cleared) and answer.redeemed is not None:
            outcome = {"status": "partial", "done": what_ran, "result": result}
            await self._settle(verdict.tool, answer.redeemed, outcome)
        self._audit.cancelled(verdict.tool, verdict.arguments, what_ran, via=via)

    async def write(
        self, ctx: Context, write: Write, action: Callable[[], Awaitable[T]], *, changed: Sequence[str] = ()
    ) -> T:
        """Run an ungated write: audited, notified, and recorded as a write to what it changed."""
        targets = [uri for uri in changed if uri not in COLLECTIONS]
        return await self.act(ctx, write.tool, write.arguments, action, changed=changed, targets=targets)

    async def act(
        self,
        ctx: Context,
        tool: str,
        arguments: Mapping[str, Any],
        action: Callable[[], Awaitable[T]],
        *,
        changed: Sequence[str] = (),
        via: str | None = None,
        targets: Sequence[str] = (),
        shown: Preview | None = None,
    ) -> T:
        """Record the intent, run the write, record its outcome, tell clients what changed. `shown` is the preview the
        human or the token approved, whose fingerprint the audit records.

        A token's claim already recorded its targets as written; every other write records them here, so
        a token previewed before this write is refused afterwards.
        """
        seen = self._seen(ctx, shown)
        # A change set's steps are acts inside the plan's own: each is approved by the plan's yes or token.
        approved = _approved.get() if via is None else (via, seen["preview"])
        if approved is not None:
            seen["preview"] = approved[1]
        try:
            attempt = self._audit.attempted(
                tool, arguments, via=via, cause=_failure, approval=approved and approved[0], **seen
            )
        except AuditUnavailable as exc:
            raise ToolError(
                f"The audit log could not record this write ({exc}), so {tool} was not attempted and nothing "
                "changed. The server's operator must make --audit-log writable; retrying will not help until then."
            ) from None
        try:
            with attempt:
                if via != "token":
                    await self._signer.record_write(tuple(targets))
                within = _approved.set(approved)
                try:
                    result = await action()
                finally:
                    _approved.reset(within)
        except ConfirmationError as exc:  # only the signer raises it, before the action starts
            raise ToolError(f"Nothing was changed: {exc}") from None
        except (ToolError, Refusal) as exc:
            raise ToolError(str(exc)) from exc
        except Exception as exc:
            logger.exception("%s failed unexpectedly", tool)
            raise ToolError(
                f"{tool} failed unexpectedly ({_cause(exc)}); it is unknown whether the change was applied. "
                "Check the current state with a get_ or list_ tool before retrying."
            ) from exc
        await notify_changed(ctx, changed)
        return result

    async def _first_use(
        self, ctx: Context, tool: str, arguments: Mapping[str, Any], token: str | None
    ) -> FirstUse | None:
        """How this same call's first use of `token` went, when it is a repeat; otherwise None, and `_answer`
        redeems or refuses the token."""
        if not token or self._no_confirm or self._can_ask(ctx) or self._unbindable(ctx):
            return None
        try:
            return await self._signer.first_use(token, tool, arguments, self._binding(ctx))
        except ConfirmationError:  # the store is unreachable: redeeming the token will say so, changing nothing
            return None

    async def _settle(self, tool: str, redeemed: Redeemed, outcome: dict[str, Any] | None) -> None:
        """Record how a token's use ended. The write's own outcome stands whatever happens here: should this fail,
        a repeat hears that the first use has not finished."""
        try:
            await self._signer.settle(redeemed, None if outcome is None else json.dumps(to_jsonable_python(outcome)))
        except Exception:
            logger.exception("recording how %s ended with its confirmation token failed", tool)

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

    async def _read_back(self, tool: str, targets: Sequence[str]) -> list[str] | None:
        if self._holdings is None or not targets:
            return None
        try:
            return await self._holdings(targets)
        except Exception as exc:  # the write is done: a failed read must not report it as failed
            logger.exception("reading back what %s changed failed", tool)
            return [f"The change is done, but what the API now holds could not be read back ({_cause(exc)})."]

    async def _preview(self, tool: str, arguments: Mapping[str, Any]) -> Preview:
        try:
            preview = await self._previews[tool](**arguments)
        except ToolError:
            raise
        except Refusal as exc:
            raise ToolError(str(exc)) from exc
        except Exception as exc:
            logger.exception("preview of %s failed", tool)
            raise ToolError(f"{tool} could not preview the change ({_cause(exc)}); nothing was changed.") from exc
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
                redeemed = await self._signer.redeem(token, tool, seen.arguments, seen.preview, self._binding(ctx))
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

    def _seen(self, ctx: Context, preview: Preview | None) -> _Shown:
        """What the audit names besides the call: the fingerprint of the preview shown or tokened (the one the
        question ends with), and, on HTTP without sign-in, the client connection of a legacy-era session."""
        session = None
        if self._http and not (self._stateless or _modern(ctx)) and sdk.caller() == "-":
            session = sdk.connection_key(ctx)
        return _Shown(preview=None if preview is None else self._signer.fingerprint(preview.state), session=session)

    def _can_ask(self, ctx: Context) -> bool:
        capabilities = ctx.client_capabilities
        if capabilities is None or capabilities.elicitation is None:
            return False
        # A stateless server cannot send a legacy client a request mid-call; the token path still works.
        return not self._stateless or _modern(ctx)

    def _unbindable(self, ctx: Context) -> bool:
        """A token for this request could be redeemed by anyone: on HTTP it has no session and no signed-in caller
        (one shared MCP_ANYREACH_HTTP_TOKEN names nobody). stdio serves one client per process."""
        return self._http and (self._stateless or _modern(ctx)) and sdk.caller() == "-"

    def _binding(self, ctx: Context) -> str:
        """Who may redeem a token: the session that saw its preview, or, where requests share no session
        (stateless replicas, the modern protocol), the caller that the HTTP layer authenticated."""
        if self._stateless or _modern(ctx):
            return f"caller:{sdk.caller()}"
        return f"session:{sdk.connection_key(ctx)} caller:{sdk.caller()}"


class _Shown(TypedDict):
    preview: str | None
    session: str | None


async def _nothing_done() -> None:
    return None


def _partial_outcome(partial: Gated[Any]) -> dict[str, Any]:
    """What a token's first use that stopped part-way is settled with: a repeat answers it (`Gatekeeper.repeat`)."""
    return {"status": "partial", "done": partial.message, "result": partial.result, "undo_id": partial.undo_id}


def _modern(ctx: Context) -> bool:
    return (ctx.protocol_version or "") >= MODERN_PROTOCOL


def _failure(exc: Exception) -> str:
    """What the audit log says a write failed of: the sentence the model reads, or else the short cause."""
    return str(exc) if isinstance(exc, ToolError | Refusal | ConfirmationError) else _cause(exc)


def _cause(exc: BaseException) -> str:
    """A short, secret-free cause: the kind of failure and, for the operating system, its reason."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return type(exc).__name__
