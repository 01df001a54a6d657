"""A cancelled apply_changes stops between steps, never inside one, and says what ran; planning again resumes it, and
its undo takes back what ran.

The server reaches the sandbox through a door that holds the k-th write (step k's request, or a move's delete)
until the test has cancelled the call and the server has heard it, so the cancellation lands while a step is
in flight. Both protocol eras: the legacy client sends `notifications/cancelled` (the dispatcher cancels the
call); on the 2026-07-28 in-process path the cancellation is structural (the caller's scope is cancelled).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import data
from tests.server.conftest import ERAS, ServerFactory, api, call, connect, in_directory, make_server, sandbox

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server

NUMBERS = [f"+1646555019{digit}" for digit in range(10)]
TIMEOUT = 30.0
Heard = list[tuple[float, float | None, str | None]]


class Door:
    """The sandbox, with its `hold_at`-th write held at the door until the test opens it."""

    def __init__(self, sandbox: Sandbox, hold_at: int) -> None:
        self._sandbox = httpx2.ASGITransport(app=sandbox.app)
        self._hold_at = hold_at
        self.writes = 0
        self.arrived = anyio.Event()
        self.opened = anyio.Event()

    async def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "GET":
            self.writes += 1
            if self.writes == self._hold_at:
                self.arrived.set()
                await self.opened.wait()
        return await self._sandbox.handle_async_request(request)

    def client(self, sandbox: Sandbox) -> AnyreachClient:
        key = sandbox.seed.demo.api_key
        return AnyreachClient("http://sandbox.test", key, transport=httpx2.MockTransport(self), max_retries=0)


class AuditLines(logging.Handler):
    """Every audit line as it is written; `cancelled` is set when one says a call was cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []
        self.cancelled = anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        line = json.loads(record.getMessage().removeprefix("audit "))
        self.lines.append(line)
        if line["outcome"].startswith("cancelled"):
            self.cancelled.set()


@contextmanager
def audit_lines() -> Generator[AuditLines]:
    logger = logging.getLogger("mcp_anyreach.audit")
    handler, level = AuditLines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def cancel_at_the_door(client: Client, door: Door, applied: dict[str, Any], era: str, heard: Heard) -> None:
    """Call apply_changes with `applied`, cancel the call while the door holds a write, and open the door once the
    server has heard of it."""
    scope, ended = anyio.CancelScope(), anyio.Event()

    async def apply() -> None:
        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            heard.append((progress, total, message))

        try:
            with scope:
                await client.call_tool("apply_changes", applied, progress_callback=on_progress)
        finally:
            ended.set()

    async with anyio.create_task_group() as group:
        group.start_soon(apply)
        await door.arrived.wait()
        scope.cancel()
        if era == "legacy":
            # The call ends once its notifications/cancelled is written; a round trip after it shows that the
            # server has read it (it reads in order). In-process 2026-07-28 calls are cancelled in place.
            await ended.wait()
            await client.list_tools()
        door.opened.set()


def _steps(plan: dict[str, Any]) -> list[str]:
    return [step["detail"] for step in plan["steps"]]


@pytest.mark.parametrize("era", ERAS)
async def test_a_cancelled_apply_stops_after_the_step_in_flight_and_planning_again_finishes_the_rest(
    make_server: ServerFactory, sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    door = Door(sandbox, hold_at=4)
    register = {"operations": [{"op": "register_numbers", "phone_numbers": NUMBERS, "trunk_id": _byoc(sandbox)}]}
    heard: Heard = []
    resumed_heard: Heard = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        resumed_heard.append((progress, total, message))

    async with door.client(sandbox) as api:
        server = make_server(client=api, no_confirm=True, audit_log=tmp_path / "audit.jsonl")
        with anyio.fail_after(TIMEOUT), audit_lines() as audit:
            async with connect(server, era) as client:
                plan = data(await call(client, "plan_changes", register))
                await cancel_at_the_door(client, door, {"plan_id": plan["plan_id"]}, era, heard)
                await audit.cancelled.wait()
                writes_when_cancelled = sandbox.app.state.request_counts["POST"]
                present = [number for number in NUMBERS if await in_directory(api, number)]
                again = data(await call(client, "plan_changes", register))
                resumed = await client.call_tool(
                    "apply_changes", {"plan_id": again["plan_id"]}, progress_callback=on_progress
                )
                everything = [number for number in NUMBERS if await in_directory(api, number)]

    assert len(plan["steps"]) == 10
    assert writes_when_cancelled == 4, "the step in flight finished; the next never started"
    assert present == NUMBERS[:4]
    assert _steps(again) == _steps(plan)[4:], "planning again plans exactly the steps not started"
    assert data(resumed)["status"] == "done"
    assert data(resumed)["result"]["complete"] is True
    assert everything == NUMBERS
    assert [progress for progress, _, _ in heard] == list(range(1, len(heard) + 1))
    assert len(heard) <= 4
    assert resumed_heard == [
        (n, 6.0, f"Step {n} of 6 done: {detail}") for n, detail in enumerate(_steps(again), start=1)
    ], "one progress notification per step, with the step's line"
    ran = [line for line in audit.lines if line["arguments"].get("plan_id") == plan["plan_id"]]
    assert [(line["arguments"]["phone_number"], line["outcome"]) for line in ran if line["outcome"] == "done"] == [
        (number, "done") for number in NUMBERS[:4]
    ]
    (cancelled,) = [line for line in audit.lines if line["outcome"].startswith("cancelled")]
    assert cancelled["tool"] == "apply_changes"
    assert cancelled["outcome"].startswith("cancelled: Cancelled after step 4 of 10")
    assert "Steps 5-10 were not started" in cancelled["outcome"]
    assert (tmp_path / "audit.jsonl").read_text().count('"outcome":"cancelled: ') == 1


@pytest.mark.parametrize("era", ERAS)
async def test_a_cancelled_apply_repeated_with_its_token_answers_what_ran_and_changes_nothing(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    """A client whose connection closed sends the same call again: it hears what ran, not that the call still runs."""
    door = Door(sandbox, hold_at=4)
    register = {"operations": [{"op": "register_numbers", "phone_numbers": NUMBERS, "trunk_id": _byoc(sandbox)}]}
    async with door.client(sandbox) as api:
        with anyio.fail_after(TIMEOUT), audit_lines() as audit:
            async with connect(make_server(client=api), era) as client:
                plan = data(await call(client, "plan_changes", register))
                confirmed = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
                await cancel_at_the_door(client, door, confirmed, era, [])
                await audit.cancelled.wait()
                repeat = data(await call(client, "apply_changes", confirmed))

    assert repeat["status"] == "partial"
    assert repeat["repeat"] is True
    assert repeat["message"].startswith(
        "Already run part-way (this confirmation token was used once): Cancelled after step 4 of 10"
    )
    report = repeat["result"]
    assert (report["complete"], report["done"], report["not_started"]) == (False, 4, 6)
    assert sandbox.app.state.request_counts["POST"] == 4, "the repeat wrote nothing"


@pytest.mark.parametrize("era", ERAS)
async def test_a_move_cancelled_at_its_delete_is_registered_again_with_its_agents_before_the_apply_stops(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    """Moving the seed's BYOC trunk plans: delete and register 131; delete, register and publish 132's agent;
    delete and register 143. The door holds 132's delete (the third write)."""
    door = Door(sandbox, hold_at=3)
    old = _byoc(sandbox)
    async with door.client(sandbox) as api:
        before = await api.phone_numbers.get("+12125550132")
        new = (await api.trunks.create(name="New carrier")).id
        door.writes = 0  # the trunk above was the test's own write
        move = {"operations": [{"op": "move_numbers", "from_trunk_id": old, "to_trunk_id": new}]}
        with anyio.fail_after(TIMEOUT), audit_lines() as audit:
            async with connect(make_server(client=api, no_confirm=True), era) as client:
                plan = data(await call(client, "plan_changes", move))
                await cancel_at_the_door(client, door, {"plan_id": plan["plan_id"]}, era, [])
                await audit.cancelled.wait()
                writes_when_cancelled = door.writes
                moved = await api.phone_numbers.get("+12125550132")
                left = await api.phone_numbers.get("+13125550143")
                again = data(await call(client, "plan_changes", move))
                data(await call(client, "apply_changes", {"plan_id": again["plan_id"]}))
                last = await api.phone_numbers.get("+13125550143")

    assert plan["summary"].startswith("7 steps")
    assert writes_when_cancelled == 5, "132's delete, its register and its agent; 143's move never started"
    assert (moved.trunk_id, moved.inbound_agent_version_id) == (new, before.inbound_agent_version_id)
    assert moved.outbound_agent_version_id == before.outbound_agent_version_id is not None
    assert left.trunk_id == old
    assert again["summary"].startswith("2 steps")
    assert "+13125550143" in str(again["steps"])
    assert "+12125550131" not in str(again["steps"])
    assert "+12125550132" not in str(again["steps"])
    assert last.trunk_id == new


def _byoc(sandbox: Sandbox) -> str:
    return sandbox.seed.demo.byoc_trunk_id


@pytest.mark.parametrize("era", ERAS)
async def test_the_undo_of_a_cancelled_apply_takes_back_exactly_the_steps_that_ran(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    door = Door(sandbox, hold_at=4)
    trunk = _byoc(sandbox)
    register = {"operations": [{"op": "register_numbers", "phone_numbers": NUMBERS, "trunk_id": trunk}]}
    async with door.client(sandbox) as api:
        with anyio.fail_after(TIMEOUT), audit_lines() as audit:
            async with connect(make_server(client=api), era) as client:
                plan = data(await call(client, "plan_changes", register))
                confirmed = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
                await cancel_at_the_door(client, door, confirmed, era, [])
                await audit.cancelled.wait()
                repeat = data(await call(client, "apply_changes", confirmed))
                undo = [{"op": "undo", "undo_id": repeat["result"]["undo_id"]}]
                inverse = data(await call(client, "plan_changes", {"operations": undo}))
                arguments = {"plan_id": inverse["plan_id"], "confirmation_token": inverse["confirmation_token"]}
                undone = data(await call(client, "apply_changes", arguments))
                left = [number for number in NUMBERS if await in_directory(api, number)]

    assert repeat["result"]["done"] == 4
    assert repeat["result"]["undo_id"] in repeat["message"], "the repeat says how to undo what ran"
    assert [step["detail"] for step in inverse["steps"]] == [f"delete {number}" for number in NUMBERS[:4]]
    assert undone["status"] == "done"
    assert left == []
