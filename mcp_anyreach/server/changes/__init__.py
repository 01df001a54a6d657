"""Change sets: one preview, one confirmation, many changes. Knows nothing of MCP.

`operations.py` and `desired.py` turn a request (a list of jobs, or what the account should look like)
into targets; `planner.py` turns targets into ordered steps with their impact; `executor.py` runs them;
`store.py` keeps plans between planning and applying; `engine.py` is what the tools and the CLI call.
"""

from __future__ import annotations

from mcp_anyreach.server.changes.engine import (
    PlanView,
    apply_plan,
    fingerprint,
    fresh_plan,
    plan_document,
    plan_operations,
    preview_text,
    stale_resources,
)
from mcp_anyreach.server.changes.executor import ApplyReport, RunStep, run_plan
from mcp_anyreach.server.changes.model import Plan, Step
from mcp_anyreach.server.changes.store import MemoryPlans, PlanStore

__all__ = [
    "ApplyReport",
    "MemoryPlans",
    "Plan",
    "PlanStore",
    "PlanView",
    "RunStep",
    "Step",
    "apply_plan",
    "fingerprint",
    "fresh_plan",
    "plan_document",
    "plan_operations",
    "preview_text",
    "run_plan",
    "stale_resources",
]
