"""`mcp-anyreach audit-log` as a reviewer runs it: a subprocess over the file a real server (and `apply`) wrote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_anyreach.sandbox import Sandbox, open_sandbox
from tests.reliability.live import data
from tests.reliability.test_cancelled_apply import NUMBERS, Door, audit_lines, cancel_at_the_door
from tests.server.conftest import (
    ACCEPT,
    ERAS,
    ServerFactory,
    answering,
    api,
    call,
    connect,
    make_server,
    questions,
    sandbox,
)
from tests.server.procs import SERVER_COMMAND, server_env
from tests.test_change_commands import cli as env_cli

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server

RUN_TIMEOUT = 60.0
DELETED, SHARED = "+12125550132", "+12125550131"


async def cli(*args: str) -> subprocess.CompletedProcess[str]:
    with anyio.fail_after(RUN_TIMEOUT):
        done = await anyio.run_process(
            [sys.executable, "-m", "mcp_anyreach", *args], env=server_env(), stdin=subprocess.DEVNULL, check=False
        )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """An audit log a stdio server on a sandbox file wrote: a number deleted after the user's yes, another made
    shareable (an ungated tool). Also the demo organization's id and the question the user was asked."""
    folder = tmp_path_factory.mktemp("audited")
    db, log = folder / "sandbox.db", folder / "audit.jsonl"
    asked = answering("accept", ACCEPT)

    async def session() -> None:
        params = StdioServerParameters(
            command=SERVER_COMMAND[0],
            args=[*SERVER_COMMAND[1:], "--db", str(db), "--audit-log", str(log)],
            env=server_env(),
        )
        with (folder / "stderr.log").open("w") as errlog, anyio.fail_after(RUN_TIMEOUT):
            async with Client(stdio_client(params, errlog=errlog), elicitation_callback=asked) as client:
                deleted = await client.call_tool("delete_phone_number", {"phone_number": DELETED})
                shared = await client.call_tool(
                    "update_phone_number", {"phone_number": SHARED, "outbound_shareable": True}
                )
                assert not deleted.is_error
                assert not shared.is_error

    anyio.run(session)
    [question] = questions(asked)
    return log, open_sandbox(str(db)).seed.demo.org_id, question


async def test_who_changed_a_number_is_one_line_with_time_organization_caller_approval_and_outcome(
    written: tuple[Path, str, str],
) -> None:
    log, org_id, question = written

    found = await cli("audit-log", "--file", str(log), "--number", "+1 212-555-0132")

    assert (found.returncode, found.stderr) == (0, "")
    [line] = found.stdout.splitlines()
    assert f"delete_phone_number {DELETED}  done  organization {org_id}  caller stdio" in line
    shown = question.rpartition("(preview ")[2].rstrip(")")
    assert line.endswith(f"approved by the user's yes to preview {shown}"), (line, question)


async def test_as_json_every_write_is_listed_newest_last_with_its_approval(written: tuple[Path, str, str]) -> None:
    log, org_id, _ = written

    found = await cli("audit-log", "--file", str(log), "--json")

    assert found.returncode == 0, found.stderr
    listed = json.loads(found.stdout)
    assert [(w["tool"], w["outcome"], w["approval"]) for w in listed["writes"]] == [
        ("delete_phone_number", "done", "elicitation"),
        ("update_phone_number", "done", "ungated"),
    ]
    assert listed["writes"][0]["time"] <= listed["writes"][1]["time"]
    assert {w["organization"] for w in listed["writes"]} == {org_id}
    assert listed["skipped"] == []


async def test_a_malformed_line_is_reported_by_number_and_skipped_and_nothing_found_still_exits_0(
    written: tuple[Path, str, str], tmp_path: Path
) -> None:
    log, _, _ = written
    damaged = tmp_path / "damaged.jsonl"
    lines = log.read_text().splitlines()
    damaged.write_text("\n".join([lines[0], '{"tool": "delete_trunk", "outc', "[1, 2]", *lines[1:]]) + "\n")

    found = await cli("audit-log", "--file", str(damaged), "--number", SHARED)
    nothing = await cli("audit-log", "--file", str(damaged), "--trunk", "trk_nobody_has")

    assert found.returncode == 0
    assert f"{damaged}:2: not JSON" in found.stderr
    assert f"{damaged}:3: not an audit line" in found.stderr
    assert [line.split("  ")[1] for line in found.stdout.splitlines()] == [f"update_phone_number {SHARED}"]
    assert nothing.returncode == 0
    assert "No write naming trunk trk_nobody_has" in nothing.stdout


async def test_an_unreadable_file_exits_1_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jsonl"

    failed = await cli("audit-log", "--file", str(missing))

    assert failed.returncode == 1
    assert str(missing) in failed.stderr
    assert failed.stdout == ""


async def test_a_pipeline_apply_is_logged_as_auto_approved_by_the_cli_with_its_plan(tmp_path: Path) -> None:
    db, document, log = str(tmp_path / "sandbox.db"), tmp_path / "account.json", tmp_path / "audit.jsonl"
    assert (await cli("export", "--db", db, "--output", str(document))).returncode == 0
    wanted = json.loads(document.read_text())
    for item in wanted["numbers"]["items"]:
        item["outbound_shareable"] = item["outbound_shareable"] or item["phone_number"] == DELETED
    document.write_text(json.dumps(wanted))
    applied = await cli("apply", str(document), "--db", db, "--auto-approve", "--audit-log", str(log))
    assert applied.returncode == 0, applied.stderr

    found = await cli("audit-log", "--file", str(log), "--number", DELETED, "--json")

    [write] = json.loads(found.stdout)["writes"]
    assert (write["tool"], write["outcome"], write["caller"], write["approval"]) == (
        "update_phone_number",
        "done",
        "cli",
        "auto_approve",
    )
    assert write["organization"] == open_sandbox(db).seed.demo.org_id
    assert write["plan_id"]


async def test_writes_of_one_of_several_organizations_are_found_by_its_name_or_its_id(tmp_path: Path) -> None:
    db, log = str(tmp_path / "sandbox.db"), tmp_path / "audit.jsonl"
    seed = open_sandbox(db).seed
    orgs = {"ANYREACH_ORG_ID": f"{seed.demo.org_id}=Demo Telephony Co,{seed.other.org_id}"}
    for org_id in (seed.demo.org_id, seed.other.org_id):
        document = tmp_path / f"{org_id}.json"
        exported = await env_cli("export", "--db", db, "--organization", org_id, "--output", str(document), **orgs)
        assert exported.returncode == 0, exported.stderr
        wanted = json.loads(document.read_text())
        wanted["numbers"]["items"] = [dict(item, outbound_shareable=True) for item in wanted["numbers"]["items"]]
        document.write_text(json.dumps(wanted))
        applied = await env_cli("apply", str(document), "--db", db, "--auto-approve", "--audit-log", str(log), **orgs)
        assert applied.returncode == 0, applied.stderr

    by_name = await env_cli("audit-log", "--file", str(log), "--organization", "Demo Telephony Co", "--json", **orgs)
    by_id = await env_cli("audit-log", "--file", str(log), "--organization", seed.other.org_id, "--json")
    nobody = await env_cli("audit-log", "--file", str(log), "--organization", "org_nobody")

    demo_writes, other_writes = json.loads(by_name.stdout)["writes"], json.loads(by_id.stdout)["writes"]
    assert demo_writes
    assert other_writes
    assert {write["organization"] for write in demo_writes} == {seed.demo.org_id}
    assert {write["organization"] for write in other_writes} == {seed.other.org_id}
    assert {write["arguments"]["phone_number"] for write in demo_writes} & {"+14155550101"}
    assert {write["arguments"]["phone_number"] for write in other_writes} & {"+16175550111"}
    assert (nobody.returncode, nobody.stdout) == (0, f"No write in organization org_nobody in {log}.\n")


@pytest.mark.parametrize("era", ERAS)
async def test_a_cancelled_apply_is_shown_with_what_ran_as_its_outcome(
    make_server: ServerFactory, sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    """Its steps that ran are writes of their own; the apply itself ends with the cancellation, not "unknown"."""
    log, door = tmp_path / "audit.jsonl", Door(sandbox, hold_at=4)
    register = {
        "operations": [
            {"op": "register_numbers", "phone_numbers": NUMBERS, "trunk_id": sandbox.seed.demo.byoc_trunk_id}
        ]
    }
    async with door.client(sandbox) as api:
        with anyio.fail_after(RUN_TIMEOUT), audit_lines() as audit:
            async with connect(make_server(client=api, audit_log=log), era) as client:
                plan = data(await call(client, "plan_changes", register))
                confirmed = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
                await cancel_at_the_door(client, door, confirmed, era, [])
                await audit.cancelled.wait()

    listed = await cli("audit-log", "--file", str(log), "--json")
    shown = await cli("audit-log", "--file", str(log))

    writes = json.loads(listed.stdout)["writes"]
    [applied] = [write for write in writes if write["tool"] == "apply_changes"]
    assert applied["outcome"].startswith("cancelled: Cancelled after step 4 of 10")
    assert "Steps 5-10 were not started" in applied["outcome"]
    assert (applied["approval"], applied["plan_id"]) == ("token", plan["plan_id"])
    assert applied["preview"]
    assert [write["outcome"] for write in writes if write["tool"] == "register_phone_number"] == ["done"] * 4
    assert "unknown" not in shown.stdout
    [line] = [line for line in shown.stdout.splitlines() if "apply_changes" in line]
    assert "  cancelled: Cancelled after step 4 of 10" in line
    assert line.endswith(
        f"approved by a confirmation token to preview {applied['preview'][:8]} (plan {plan['plan_id']})"
    )
