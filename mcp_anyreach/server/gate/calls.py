"""What travels through the gate with one call: its arguments, the preview it was shown, and the answer.

How the gate works, in three modules (tokens.py and audit_log.py sit below them):

- calls.py (this one): the values a gated call carries. When a gated tool is built, the SDK is given three resolvers
  (`Asking.gate`) that it runs before the tool body: `seen` makes a `Seen` (the preview of these validated
  arguments), `answer` decides how the call is approved, and `verdict` hands the tool a `Verdict`: its arguments,
  the preview the human or the token saw, and the outcome. What the human saw therefore travels with the call
  itself: there is no table of pending questions that two sessions could overwrite. An ungated write receives a
  `Write` instead.
- asking.py: what a call is shown and how it is answered: the preview, the question to a client that can be asked,
  a confirmation token minted or redeemed, and the answer to a call repeated with its used token.
- gatekeeper.py: running an approved write: audited before and after, notified, and the token's first use settled
  with its outcome so that a repeat is answered with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import AcceptedElicitation, CancelledElicitation, Context, DeclinedElicitation
from mcp.server.mcpserver.exceptions import ToolError

from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.server.gate.tokens import Approval, ConfirmationError, Preview, Repeated
from mcp_anyreach.shared_state.used_tokens import FirstUse

GateOutcome = AcceptedElicitation[Approval] | DeclinedElicitation | CancelledElicitation
PreviewFn = Callable[..., Awaitable[Preview]]
"""Called with the tool's validated arguments by name (all but confirmation_token)."""
Holdings = Callable[[Sequence[str]], Awaitable[list[str]]]
"""What the API holds for each of these target URIs, one line each (holdings.py)."""

# From this protocol version on, questions ride in the call's result, not in a request from the server.
MODERN_PROTOCOL = "2026-07-28"


@dataclass(frozen=True, slots=True)
class Seen:
    arguments: dict[str, Any]
    preview: Preview
    first: FirstUse | None = None  # a repeat: how this call's first use with its token went; nothing was previewed
    spent: bool | None = None  # whether its token's first use failed, as read when the call was seen (None: not read)


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
        the tool must not run (`Asking.repeat` answers it)."""
        return (
            self.outcome.data.first
            if isinstance(self.outcome, AcceptedElicitation) and isinstance(self.outcome.data, Repeated)
            else None
        )


def modern(ctx: Context) -> bool:
    return (ctx.protocol_version or "") >= MODERN_PROTOCOL


def failure(exc: Exception) -> str:
    """What the audit log says a write failed of: the sentence the model reads, or else the short cause."""
    return str(exc) if isinstance(exc, ToolError | Refusal | ConfirmationError) else cause(exc)


def cause(exc: BaseException) -> str:
    """A short, secret-free cause: the kind of failure and, for the operating system, its reason."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return type(exc).__name__
