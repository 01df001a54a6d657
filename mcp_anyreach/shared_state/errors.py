"""The one failure every shared store raises when it cannot be reached."""

from __future__ import annotations

from mcp_anyreach.changes.store import PlanStoreUnavailable
from mcp_anyreach.shared_state.used_tokens import UsedTokensBusy


class SharedStateUnavailable(UsedTokensBusy, PlanStoreUnavailable):
    """The shared store (Redis, or a SQLite file locked too long) could not be reached; nothing was recorded.

    A `UsedTokensBusy`, so the confirmation gate refuses a token with "nothing was done, the token is still
    unused, repeat the call" whichever store failed; a `PlanStoreUnavailable`, so the change-set executor
    says the plans could not be reached.
    """
