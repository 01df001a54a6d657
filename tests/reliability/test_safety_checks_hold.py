"""Each safety check of the gate, on its own, keeps a promise a user relies on.

The other tests of the gate often see a refusal for two reasons at once (the state changed *and* it was
written). These arrange for exactly one check to stand between the model and a second purchase, a replayed
token or an unapproved step, so that removing that check alone lets the write through and fails the test.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import CONFIRM_SECRET, data, texts
from tests.reliability.test_gate_holds import _offer, _token  # pyright: ignore[reportPrivateUsage]
from tests.server.conftest import (
    ACCEPT,
    ServerFactory,
    answering,
    api,
    call,
    connect,
    in_directory,
    make_server,
    sandbox,
)

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server

ERAS = ["auto", "legacy"]
STALE = "changed by another call"
FIXED_CLOCK = 1_900_000_000.0
UNRELATED = "+12125550131"


async def _purchase_token(client: Client, number: str) -> str:
    return _token(await call(client, "purchase_phone_number", {"phone_number": number}))


async def _redeem_purchase(client: Client, number: str, token: str) -> Any:
    return await call(client, "purchase_phone_number", {"phone_number": number, "confirmation_token": token})


# Rows 1, 2 and 4: a write by anyone else after a preview makes its token stale, even when the state looks
# the same again (the number went back on offer). Releasing it through the API directly is not recorded, so
# only the other call's own record of its write can refuse the token.


@pytest.mark.parametrize("era", ERAS)
async def test_a_purchase_token_is_refused_after_an_ungated_registration_of_the_number_in_another_session(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    number = await _offer(api, sandbox)
    server = make_server()
    async with connect(server, era) as model, connect(server, era) as other:
        token = await _purchase_token(model, number)
        registered = await call(
            other, "register_phone_number", {"phone_number": number, "trunk_id": sandbox.seed.demo.byoc_trunk_id}
        )
        await api.phone_numbers.delete(number)  # on offer again, exactly as at preview time
        again = await _redeem_purchase(model, number, token)
    assert data(registered)["phone_number"] == number
    assert again.is_error
    assert STALE in texts(again)
    assert not await in_directory(api, number)


@pytest.mark.parametrize("era", ERAS)
async def test_a_purchase_token_is_refused_after_a_human_in_another_session_said_yes_to_buying_the_number(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    number = await _offer(api, sandbox)
    server = make_server()
    human = answering("accept", ACCEPT)
    async with connect(server, era) as model, connect(server, era, elicitation_callback=human) as other:
        token = await _purchase_token(model, number)
        bought = await call(other, "purchase_phone_number", {"phone_number": number})
        await api.phone_numbers.delete(number)
        again = await _redeem_purchase(model, number, token)
    assert data(bought)["status"] == "done"
    assert again.is_error
    assert STALE in texts(again)
    assert not await in_directory(api, number)


@pytest.mark.parametrize("era", ERAS)
async def test_a_create_routing_token_is_refused_after_a_human_elsewhere_said_yes_to_a_create_and_a_delete(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    arguments = {"workflow_id": "wf_main"}
    server = make_server()
    human = answering("accept", ACCEPT)
    async with connect(server, era) as model, connect(server, era, elicitation_callback=human) as other:
        token = _token(await call(model, "create_inbound_routing_config", arguments))
        created = await call(other, "create_inbound_routing_config", {"workflow_id": "wf_other"})
        deleted = await call(other, "delete_inbound_routing_config", {})
        again = await call(model, "create_inbound_routing_config", {**arguments, "confirmation_token": token})
    assert [data(created)["status"], data(deleted)["status"]] == ["done", "done"]
    assert again.is_error
    assert STALE in texts(again)
    assert await api.inbound_routing.get() is None


async def test_a_purchase_token_is_refused_after_a_no_confirm_replica_bought_the_number(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    number = await _offer(api, sandbox)
    async with connect(make_server(confirm_secret=CONFIRM_SECRET), "legacy") as model:
        token = await _purchase_token(model, number)
        async with connect(make_server(confirm_secret=CONFIRM_SECRET, no_confirm=True), "legacy") as pipeline:
            bought = await call(pipeline, "purchase_phone_number", {"phone_number": number})
        await api.phone_numbers.delete(number)
        again = await _redeem_purchase(model, number, token)
    assert data(bought)["status"] == "done"
    assert again.is_error
    assert STALE in texts(again)
    assert not await in_directory(api, number)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
async def test_a_write_at_the_same_clock_instant_as_the_preview_makes_its_token_stale(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, tmp_path: Path, store: str
) -> None:
    number = await _offer(api, sandbox)
    trunk = sandbox.seed.demo.byoc_trunk_id
    shared = {"token_store": tmp_path / "used.db"} if store == "sqlite" else {}
    server = make_server(clock=lambda: FIXED_CLOCK, **shared)
    async with connect(server, "legacy") as model, connect(server, "legacy") as other:
        token = await _purchase_token(model, number)
        await call(other, "register_phone_number", {"phone_number": number, "trunk_id": trunk})
        await api.phone_numbers.delete(number)
        again = await _redeem_purchase(model, number, token)
    assert again.is_error
    assert STALE in texts(again)
    assert not await in_directory(api, number)


# Row 3: with no shared token store, the server's own memory remembers a used token until it expires, however
# many other writes it records meanwhile.


@pytest.mark.parametrize("era", ERAS)
async def test_a_token_redeemed_twice_on_the_default_store_buys_the_number_once(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    number = await _offer(api, sandbox)
    async with connect(make_server(), era) as model:
        token = await _purchase_token(model, number)
        bought = await _redeem_purchase(model, number, token)
        await api.phone_numbers.delete(number)  # released outside the server: on offer again, as previewed
        unrelated = await call(model, "update_phone_number", {"phone_number": UNRELATED, "outbound_shareable": True})
        replay = await _redeem_purchase(model, number, token)
    assert data(bought)["status"] == "done"
    assert data(unrelated)["outbound_shareable"]
    assert data(replay)["repeat"] is True, "answered from the first purchase"
    assert data(replay)["result"] == data(bought)["result"]
    assert sandbox.app.state.request_counts["POST"] == 1
    assert not await in_directory(api, number)


# Row 9: a bulk tool re-plans when it runs; a plan that differs from the one approved is not run. The account
# changes after the gate's last look (the intent is already in the audit log), as a second writer could.


def _changing_once(app: ASGIApp, ready: Callable[[], bool], change: Callable[[], Awaitable[None]]) -> ASGIApp:
    """The sandbox, except that the first request once `ready()` holds is preceded by `change()`."""
    changed: list[bool] = []

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not changed and ready():
            changed.append(True)
            await change()
        await app(scope, receive, send)

    return wrapped


@asynccontextmanager
async def _changing_api(
    sandbox: Sandbox, audit: Path, tool: str, change: Callable[[], Awaitable[None]]
) -> AsyncGenerator[AnyreachClient]:
    """A client of the sandbox whose account changes just after `tool`'s intent is audited."""

    def intent_recorded() -> bool:
        lines = audit.read_text().splitlines() if audit.exists() else []
        return any((e["tool"], e["outcome"]) == (tool, "attempted") for e in map(json.loads, lines))

    transport = httpx2.ASGITransport(app=_changing_once(sandbox.app, intent_recorded, change))
    async with AnyreachClient("http://sandbox.test", sandbox.seed.demo.api_key, None, transport=transport) as client:
        yield client


@pytest.mark.parametrize("era", ERAS)
async def test_a_bulk_move_whose_trunk_gained_a_number_after_the_yes_is_refused_and_moves_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    old = sandbox.seed.demo.byoc_trunk_id
    new = await api.trunks.create(name="New carrier")
    arrival = "+16465550188"

    async def register_one_more() -> None:
        await api.phone_numbers.create(phone_number=arrival, trunk_id=old)

    audit = tmp_path / "audit.jsonl"
    arguments = {"to_trunk_id": new.id, "from_trunk_id": old}
    async with _changing_api(sandbox, audit, "move_phone_numbers", register_one_more) as changing:
        server = make_server(client=changing, audit_log=audit)
        async with connect(server, era, elicitation_callback=answering("accept", ACCEPT)) as client:
            moved = await call(client, "move_phone_numbers", arguments)
    assert moved.is_error
    assert "moved since the preview" in texts(moved)
    assert not [n async for n in api.phone_numbers.iter(trunk_id=new.id)]
    assert (await api.phone_numbers.get(arrival)).trunk_id == old


@pytest.mark.parametrize("era", ERAS)
async def test_a_bulk_delete_whose_number_changed_after_the_yes_is_refused_and_deletes_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    numbers = ["+12125550131", "+14155550102"]
    shared = (await api.phone_numbers.get(numbers[0])).outbound_shareable

    async def share_the_first() -> None:
        await api.phone_numbers.update(numbers[0], outbound_shareable=not shared)

    audit = tmp_path / "audit.jsonl"
    async with _changing_api(sandbox, audit, "delete_phone_numbers", share_the_first) as changing:
        server = make_server(client=changing, audit_log=audit)
        async with connect(server, era, elicitation_callback=answering("accept", ACCEPT)) as client:
            deleted = await call(client, "delete_phone_numbers", {"phone_numbers": numbers})
    assert deleted.is_error
    assert "moved since the preview" in texts(deleted)
    assert [await in_directory(api, number) for number in numbers] == [True, True]


# Rows 6 and 8 as a user sees them: the audit file (and the log) of real calls holds no password and no token.
# tests/server hold each redaction rule's own test; these fail only when every layer that guards them fails.

OLD_PASSWORD = "sip-old-Vb48-unique"
NEW_PASSWORD = "sip-new-Rk93-unique"
INBOUND_PASSWORD = "sip-in-Tw56-unique"


@pytest.mark.parametrize("era", ERAS)
async def test_the_audit_of_creating_and_updating_a_trunk_with_passwords_holds_no_password(
    make_server: ServerFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture, era: str
) -> None:
    audit = tmp_path / "audit.jsonl"
    caplog.set_level(logging.INFO)
    outbound = {"address": "sip.carrier.example:5061", "auth_username": "acme", "auth_password": OLD_PASSWORD}
    inbound = {"allowed_addresses": ["203.0.113.7"], "auth_username": "pbx", "auth_password": INBOUND_PASSWORD}
    async with connect(make_server(audit_log=audit, no_confirm=True), era) as client:
        created = await call(client, "create_trunk", {"name": "Carrier A", "outbound": outbound})
        trunk = data(created)
        trunk_id = str(trunk.get("result", trunk)["id"])
        updated = await call(
            client,
            "update_trunk",
            {"trunk_id": trunk_id, "outbound": {**outbound, "auth_password": NEW_PASSWORD}, "inbound": inbound},
        )
    assert data(updated)["status"] == "done"
    written = audit.read_text() + caplog.text
    assert all(password not in written for password in (OLD_PASSWORD, NEW_PASSWORD, INBOUND_PASSWORD))
    update = next(json.loads(line) for line in audit.read_text().splitlines() if '"update_trunk"' in line)
    assert update["arguments"]["outbound"]["auth_password"] == "[redacted]"
    assert update["arguments"]["inbound"]["auth_password"] == "[redacted]"


@pytest.mark.parametrize("era", ERAS)
async def test_no_audit_line_holds_a_confirmation_token_issued_used_or_refused(
    make_server: ServerFactory, api: AnyreachClient, tmp_path: Path, caplog: pytest.LogCaptureFixture, era: str
) -> None:
    await api.inbound_routing.create(workflow_id="wf_main", enabled=True)
    audit = tmp_path / "audit.jsonl"
    caplog.set_level(logging.INFO)
    arguments = {"enabled": False}
    async with connect(make_server(audit_log=audit), era) as model:
        token = _token(await call(model, "update_inbound_routing_config", arguments))
        done = await call(model, "update_inbound_routing_config", {**arguments, "confirmation_token": token})
        await api.inbound_routing.update(enabled=True)
        replay = await call(model, "update_inbound_routing_config", {**arguments, "confirmation_token": token})
        forged = await call(model, "update_inbound_routing_config", {**arguments, "confirmation_token": token + "x"})
    assert data(done)["status"] == "done"
    assert data(replay)["repeat"] is True
    assert "not valid" in texts(forged)
    outcomes = [json.loads(line)["outcome"].split(":")[0] for line in audit.read_text().splitlines()]
    assert outcomes == ["confirmation_required", "attempted", "done", "repeat", "refused"]
    written = audit.read_text() + caplog.text
    assert token.split(".")[1] not in written
    assert token.split(".")[2] not in written


@pytest.mark.parametrize("era", ERAS)
async def test_a_delete_token_is_refused_after_a_human_elsewhere_said_yes_to_moving_the_number_away(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    """Put back through the API directly (which records nothing), the number is the same again but for its new
    record: the token, bound to what was previewed, deletes nothing."""
    home = sandbox.seed.demo.byoc_trunk_id
    plain = [n async for n in api.phone_numbers.iter(trunk_id=home) if not n.inbound_agent_version_id]
    number = next(n for n in plain if not n.outbound_agent_version_id)
    away = (await api.trunks.create(name="Away for a moment")).id
    server = make_server()
    human = answering("accept", ACCEPT)
    async with connect(server, era) as model, connect(server, era, elicitation_callback=human) as other:
        token = _token(await call(model, "delete_phone_number", {"phone_number": number.phone_number}))
        moved = await call(other, "move_phone_numbers", {"phone_numbers": [number.phone_number], "to_trunk_id": away})
        await api.phone_numbers.delete(number.phone_number)
        await api.phone_numbers.create(
            phone_number=number.phone_number, trunk_id=home, outbound_shareable=number.outbound_shareable
        )
        arguments = {"phone_number": number.phone_number, "confirmation_token": token}
        again = await call(model, "delete_phone_number", arguments)
    assert data(moved)["status"] == "done"
    assert again.is_error
    assert any(reason in texts(again) for reason in (STALE, "has changed since the preview"))
    assert await in_directory(api, number.phone_number)
