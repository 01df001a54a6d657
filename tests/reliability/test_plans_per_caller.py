"""A caller that cannot apply plans keeps none, so it cannot crowd out the plans of those who can."""

from __future__ import annotations

import pytest

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.store import PLANS_PER_CALLER
from tests.reliability.live import data
from tests.server.conftest import ServerFactory, api, call, connect, in_directory, make_server, sandbox

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server

SHARED_SECRET = "replicas-share-this-confirmation-secret-0123456789"
DELETE_UNUSED = {"operations": [{"op": "delete_numbers", "unused": True}]}
UNUSED = "+14155550102"


@pytest.mark.parametrize("era", ["auto", "legacy"])
async def test_a_read_only_server_sharing_the_plans_shows_a_plan_but_keeps_nothing_applyable(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    writer = make_server(confirm_secret=SHARED_SECRET)
    reader = make_server(confirm_secret=SHARED_SECRET, read_only=True)
    async with connect(writer, era) as admin, connect(reader, era) as reading:
        mine = data(await call(admin, "plan_changes", DELETE_UNUSED))
        # Both are the one anonymous caller here, so stored plans of the reader would push out the writer's.
        theirs = [data(await call(reading, "plan_changes", DELETE_UNUSED)) for _ in range(PLANS_PER_CALLER + 1)]
        done = data(
            await call(
                admin, "apply_changes", {"plan_id": mine["plan_id"], "confirmation_token": mine["confirmation_token"]}
            )
        )

    assert all(plan["plan_id"] is None and plan["expires_in_seconds"] is None for plan in theirs)
    assert all(plan["steps"] == mine["steps"] for plan in theirs), "the reader still sees the whole plan"
    assert "--read-only" in theirs[0]["next"]
    assert "not kept" in theirs[0]["next"]
    assert done["status"] == "done"
    assert not await in_directory(api, UNUSED)
