"""The audit log: every attempted write, one JSON line, with secrets redacted."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server.gate.audit_log import AuditLog, AuditUnavailable
from tests.server.conftest import ACCEPT, ServerFactory, answering, call, connect, refusing_deletes_of

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


def lines(log: Path) -> list[tuple[str, Any, str, str | None]]:
    """Each audit line as (tool, arguments, outcome up to its first colon, how the write was approved)."""
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    return [(e["tool"], e["arguments"], e["outcome"].split(":")[0], e["confirmation"]) for e in entries]


async def test_each_audit_line_names_the_write_its_arguments_and_how_it_was_approved(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    """A reviewer reads from the log alone what was asked, what ran, what failed, and who approved it."""
    gone, kept, shared = [n.phone_number for n in (await api.phone_numbers.list(limit=3)).items]
    asked, offered = tmp_path / "asked.jsonl", tmp_path / "offered.jsonl"
    refusing = refusing_deletes_of(sandbox, kept)
    elicited = connect(
        make_server(audit_log=asked, client=refusing), era, elicitation_callback=answering("accept", ACCEPT)
    )
    async with elicited as client:
        assert not (await call(client, "delete_phone_number", {"phone_number": gone})).is_error
        assert (await call(client, "delete_phone_number", {"phone_number": kept})).is_error
    async with connect(make_server(audit_log=offered), era) as client:
        await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]})
        await call(client, "delete_phone_number", {"phone_number": shared})
        assert not (
            await call(client, "update_phone_number", {"phone_number": shared, "outbound_shareable": True})
        ).is_error
    await refusing.aclose()
    assert lines(asked) == [
        ("delete_phone_number", {"phone_number": gone}, "attempted", "elicitation"),
        ("delete_phone_number", {"phone_number": gone}, "done", "elicitation"),
        ("delete_phone_number", {"phone_number": kept}, "attempted", "elicitation"),
        ("delete_phone_number", {"phone_number": kept}, "failed", "elicitation"),
    ]
    plan_id = lines(offered)[0][1]["plan_id"]
    assert lines(offered) == [
        ("apply_changes", {"plan_id": plan_id}, "confirmation_required", "token"),
        ("delete_phone_number", {"phone_number": shared}, "confirmation_required", "token"),
        ("update_phone_number", {"phone_number": shared, "outbound_shareable": True}, "attempted", None),
        ("update_phone_number", {"phone_number": shared, "outbound_shareable": True}, "done", None),
    ]


def test_a_write_is_logged_as_attempted_then_done_or_failed_with_its_cause_under_one_call(tmp_path: Path) -> None:
    """The one sequence the gate and `mcp-anyreach apply` both write around each write."""
    log = tmp_path / "audit.jsonl"
    audit = AuditLog(log)

    with audit.attempted("delete_trunk", {"trunk_id": "trk_1"}, via="token", cause=lambda exc: f"{exc}!"):
        pass
    with (
        pytest.raises(LookupError),
        audit.attempted("delete_trunk", {"trunk_id": "trk_2"}, via=None, cause=lambda exc: f"{exc}!"),
    ):
        raise LookupError("gone")

    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["arguments"]["trunk_id"], e["outcome"], e["confirmation"]) for e in entries] == [
        ("trk_1", "attempted", "token"),
        ("trk_1", "done", "token"),
        ("trk_2", "attempted", None),
        ("trk_2", "failed: gone!", None),
    ]
    assert entries[0]["call"] == entries[1]["call"] != entries[2]["call"] == entries[3]["call"]


def test_a_write_whose_intent_cannot_be_logged_is_refused_before_it_starts(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "missing-folder" / "audit.jsonl")

    with pytest.raises(AuditUnavailable, match="missing-folder"):
        audit.attempted("delete_trunk", {"trunk_id": "trk_1"}, via=None, cause=str)


@pytest.mark.parametrize(("answer", "outcome"), [("decline", "declined"), ("cancel", "cancelled")])
async def test_a_human_who_says_no_or_walks_away_leaves_an_audit_line_naming_what_was_refused(
    make_server: ServerFactory, api: AnyreachClient, tmp_path: Path, era: str, answer: str, outcome: str
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    log = tmp_path / "audit.jsonl"
    async with connect(make_server(audit_log=log), era, elicitation_callback=answering(answer)) as client:
        refused = await call(client, "delete_phone_number", {"phone_number": number})
    assert not refused.is_error
    assert lines(log) == [("delete_phone_number", {"phone_number": number}, outcome, "elicitation")]
