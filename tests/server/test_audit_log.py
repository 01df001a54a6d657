"""The audit log: every attempted write, one JSON line, with secrets redacted."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from mcp_anyreach.api import AnyreachClient
from tests.server.conftest import ServerFactory, connect

PASSWORD = "sip-pass-Zq81-unique"


async def test_every_attempted_write_is_audited_with_its_outcome_and_no_password(
    make_server: ServerFactory, api: AnyreachClient, tmp_path: Path, era: str, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "audit.jsonl"
    outbound = {"address": "sip.carrier.example:5061", "auth_username": "acme", "auth_password": PASSWORD}
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    caplog.set_level(logging.INFO)
    async with connect(make_server(audit_log=log), era) as client:
        creation = {"name": "Carrier A", "outbound": outbound}
        preview = await client.call_tool("create_trunk", creation)
        previewed: dict[str, Any] = preview.structured_content or {}
        token = previewed["confirmation_token"]
        created = await client.call_tool("create_trunk", {**creation, "confirmation_token": token})
        await client.call_tool("delete_phone_number", {"phone_number": number})
        await client.call_tool("register_phone_number", {"phone_number": number, "trunk_id": "no-such-trunk"})
    assert not created.is_error
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["tool"], e["outcome"].split(":")[0]) for e in entries] == [
        ("create_trunk", "confirmation_required"),
        ("create_trunk", "attempted"),
        ("create_trunk", "done"),
        ("delete_phone_number", "confirmation_required"),
        ("register_phone_number", "attempted"),
        ("register_phone_number", "failed"),
    ]
    assert entries[1]["call"] == entries[2]["call"] != entries[4]["call"] == entries[5]["call"]
    assert entries[1]["arguments"]["outbound"]["auth_password"] == "[redacted]"
    assert all(e["time"].endswith("Z") for e in entries)
    assert PASSWORD not in log.read_text()
    assert PASSWORD not in caplog.text
    assert PASSWORD not in str(created.content) + json.dumps(created.structured_content)
