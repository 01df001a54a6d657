"""The audit log fails closed, and every failure says whether anything changed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import data, texts
from tests.server.conftest import ACCEPT, ServerFactory, answering, api, connect, in_directory, make_server, sandbox
from tests.server.procs import SERVER_COMMAND, server_env

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server


# 7. The audit log fails closed.


async def test_a_purchase_whose_intent_cannot_be_audited_is_not_attempted_and_says_so(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, tmp_path: Path
) -> None:
    log = tmp_path / "audit.jsonl"
    offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code="415")
    number = offers[0].phone_number
    async with connect(make_server(audit_log=log, no_confirm=True), "legacy") as client:
        log.mkdir()  # the log became unwritable after start-up (a full disk, a removed mount)
        result = await client.call_tool("purchase_phone_number", {"phone_number": number})
    assert result.is_error
    assert "not attempted and nothing changed" in texts(result)
    assert not await in_directory(api, number)


def test_the_server_refuses_to_start_when_its_audit_log_cannot_be_appended_to(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    completed = subprocess.run(
        [*SERVER_COMMAND, "--db", ":memory:", "--audit-log", str(blocked / "audit.jsonl")],
        env=server_env(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert b"audit log" in completed.stderr


# 8. Every failure is recorded and explained, not only ToolErrors.


async def test_a_broken_token_store_refuses_the_confirmation_with_a_sentence_and_an_audit_line(
    make_server: ServerFactory, api: AnyreachClient, tmp_path: Path
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    store, log = tmp_path / "used.db", tmp_path / "audit.jsonl"
    async with connect(make_server(token_store=store, audit_log=log), "legacy") as client:
        token = data(await client.call_tool("delete_phone_number", {"phone_number": number}))["confirmation_token"]
        store.write_bytes(b"this is not a database" * 100)  # a broken disk, an operator's mistake
        result = await client.call_tool("delete_phone_number", {"phone_number": number, "confirmation_token": token})
    assert result.is_error
    assert "nothing was done" in texts(result)
    assert "Error executing tool" not in texts(result).split(":")[1]
    assert await in_directory(api, number)
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["outcome"].startswith("failed:")


async def test_a_confirmed_write_the_token_store_cannot_record_is_not_made_and_the_log_says_who_approved_it(
    make_server: ServerFactory, api: AnyreachClient, tmp_path: Path
) -> None:
    """A write that could not be recorded would leave older tokens for the same number redeemable: it waits."""
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    store, log = tmp_path / "used.db", tmp_path / "audit.jsonl"
    server = make_server(token_store=store, audit_log=log)
    async with connect(server, "legacy", elicitation_callback=answering("accept", ACCEPT)) as client:
        store.write_bytes(b"this is not a database" * 100)
        result = await client.call_tool("delete_phone_number", {"phone_number": number})
    assert result.is_error
    assert "Nothing was changed" in texts(result)
    assert await in_directory(api, number)
    last = json.loads(log.read_text().splitlines()[-1])
    assert (last["tool"], last["arguments"], last["confirmation"]) == (
        "delete_phone_number",
        {"phone_number": number},
        "elicitation",
    )
    assert last["outcome"].startswith("failed:")
