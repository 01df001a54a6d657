"""Running an approved write: recorded in the audit log before and after, told to clients, and settled.

`Gatekeeper` is the one object the tools are given (services.gatekeeper). It builds on `Asking` (asking.py: what a
call is shown and how it is answered; calls.py draws the whole gate) with what happens once a call is approved:

- `run` acts on a gated tool's `Verdict`: it answers `confirmation_required`, declined or dismissed without writing,
  re-checks the state after a human's yes, or writes. A token's first use is then settled with the outcome (done,
  partial, or failed), which is what a call repeated with that token is answered with.
- `act` records the intent in the audit log (no record, no write), runs the write, records the outcome and notifies
  clients. Every failure says whether anything changed. Ungated writes come through `write` (they take a
  `write: Write` parameter: their validated arguments) and go through `act` too, as does each step of a change set,
  approved by the plan's yes or token.
- `cancelled` records what a change set ran before its call was cancelled, which `act` cannot.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from mcp.server.mcpserver import AcceptedElicitation, CancelledElicitation, Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from mcp_anyreach.domain.records import Gated
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.uris import COLLECTIONS
from mcp_anyreach.server.gate.asking import Asking
from mcp_anyreach.server.gate.audit_log import AuditUnavailable
from mcp_anyreach.server.gate.calls import PreviewFn, Verdict, Write, cause, failure
from mcp_anyreach.server.gate.tokens import Approval, Cleared, ConfirmationError, Preview, Redeemed, TokenRequired
from mcp_anyreach.server.notify import notify_changed

__all__ = ["Gatekeeper", "PreviewFn", "Verdict", "Write"]  # what the tools import from here

logger = logging.getLogger("mcp_anyreach.server")
T = TypeVar("T")
_approved: ContextVar[tuple[str, str | None] | None] = ContextVar("mcp_anyreach_approved", default=None)
"""How the write running now was approved, and the fingerprint of its preview: what the writes inside it inherit."""


class Gatekeeper(Asking):
    """Builds each gated tool's resolvers (`Asking`) and runs every write: gated or not, audited and notified."""

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
                tool, arguments, via=via, cause=failure, approval=approved and approved[0], **seen
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
                f"{tool} failed unexpectedly ({cause(exc)}); it is unknown whether the change was applied. "
                "Check the current state with a get_ or list_ tool before retrying."
            ) from exc
        await notify_changed(ctx, changed)
        return result

    async def _settle(self, tool: str, redeemed: Redeemed, outcome: dict[str, Any] | None) -> None:
        """Record how a token's use ended. The write's own outcome stands whatever happens here: should this fail,
        a repeat hears that the first use has not finished."""
        try:
            await self._signer.settle(redeemed, None if outcome is None else json.dumps(to_jsonable_python(outcome)))
        except Exception:
            logger.exception("recording how %s ended with its confirmation token failed", tool)

    async def _read_back(self, tool: str, targets: Sequence[str]) -> list[str] | None:
        if self._holdings is None or not targets:
            return None
        try:
            return await self._holdings(targets)
        except Exception as exc:  # the write is done: a failed read must not report it as failed
            logger.exception("reading back what %s changed failed", tool)
            return [f"The change is done, but what the API now holds could not be read back ({cause(exc)})."]


async def _nothing_done() -> None:
    return None


def _partial_outcome(partial: Gated[Any]) -> dict[str, Any]:
    """What a token's first use that stopped part-way is settled with: a repeat answers it (`Gatekeeper.repeat`)."""
    return {"status": "partial", "done": partial.message, "result": partial.result, "undo_id": partial.undo_id}
