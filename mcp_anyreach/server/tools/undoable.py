"""Single-call writes that can be undone: what the call replaces is read just before it writes, and what it
left just after, and the outcome carries the record's undo id (plan_changes plans the undo by it).

A record that cannot be kept never turns a write that was made into a failure: the outcome says so instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from mcp.server.mcpserver import Context

from mcp_anyreach.domain.api_errors import api_errors
from mcp_anyreach.domain.records import Gated
from mcp_anyreach.server.gate.audit_log import note_undo
from mcp_anyreach.server.gate.gatekeeper import Verdict
from mcp_anyreach.server.services import Services

if TYPE_CHECKING:
    from mcp_anyreach.changes.undo import Touched

logger = logging.getLogger("mcp_anyreach.server")
T = TypeVar("T")


async def run_undoable(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    action: Callable[[], Awaitable[T]],
    touched: Touched,
    *,
    changed: Sequence[str] = (),
    read_back: bool = False,
) -> Gated[T]:
    """`Gatekeeper.run`, with an undo record of what the approved write replaced."""
    from mcp_anyreach.changes.undo import capture, kept_sentence, record_undo

    kept: list[str] = []

    async def undoable() -> T:
        with api_errors(retry_safe=True):  # nothing is written yet: a failed read changes nothing
            basis = await capture(services.client, touched)
        result = await action()
        try:
            record = await record_undo(services.client, services.undo, basis, made_by=verdict.tool)
        except Exception as exc:  # the write is made: a record that could not be kept must not report it failed
            logger.warning("the undo record of %s could not be kept: %s", verdict.tool, type(exc).__name__)
            kept.append(f"No undo record could be kept ({type(exc).__name__}).")
        else:
            kept.extend([record.id, kept_sentence(record, services.undo)])
            note_undo(record.id)
        return result

    def finish(gated: Gated[T]) -> Gated[T]:
        if not kept:
            return gated
        undo_id = kept[0] if len(kept) == 2 else None
        return gated.model_copy(update={"undo_id": undo_id, "message": f"{gated.message}\n{kept[-1]}"})

    return await services.gatekeeper.run(ctx, verdict, undoable, changed=changed, read_back=read_back, finish=finish)
