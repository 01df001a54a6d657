"""`mcp-anyreach export | plan | apply` as a pipeline runs them: subprocesses on a sandbox file, exit codes read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import yaml

from tests.server.procs import server_env

RUN_TIMEOUT = 60.0


async def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    with anyio.fail_after(RUN_TIMEOUT):
        done = await anyio.run_process(
            [sys.executable, "-m", "mcp_anyreach", *args], env=server_env(**env), stdin=subprocess.DEVNULL, check=False
        )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


async def test_export_then_plan_on_the_unchanged_account_has_nothing_to_do(tmp_path: Path) -> None:
    db, document = str(tmp_path / "sandbox.db"), tmp_path / "account.yaml"

    exported = await cli("export", "--db", db, "--output", str(document))
    planned = await cli("plan", str(document), "--db", db)

    assert exported.returncode == 0, exported.stderr
    text = document.read_text()
    assert "auth_password" not in text
    assert {item["name"] for item in yaml.safe_load(text)["trunks"]["items"]} >= {"Anyreach managed numbers"}
    assert (planned.returncode, planned.stdout.strip()) == (0, "Nothing to do: the account already matches.")


async def test_plan_exits_2_with_pending_changes_and_apply_needs_a_yes_or_auto_approve(tmp_path: Path) -> None:
    db, document = str(tmp_path / "sandbox.db"), tmp_path / "account.json"
    assert (await cli("export", "--db", db, "--output", str(document))).returncode == 0
    wanted = json.loads(document.read_text())
    for item in wanted["numbers"]["items"]:
        item["outbound_shareable"] = True
    document.write_text(json.dumps(wanted))
    log = tmp_path / "audit.jsonl"

    pending = await cli("plan", str(document), "--db", db, "--json")
    unapproved = await cli("apply", str(document), "--db", db)
    still_pending = await cli("plan", str(document), "--db", db)
    applied = await cli("apply", str(document), "--db", db, "--auto-approve", "--audit-log", str(log))
    settled = await cli("plan", str(document), "--db", db)

    assert pending.returncode == 2
    assert [step["action"] for step in json.loads(pending.stdout)["steps"]] == ["set_shareable"] * 4
    assert unapproved.returncode == 1
    assert "--auto-approve" in unapproved.stderr
    assert still_pending.returncode == 2
    assert applied.returncode == 0, applied.stderr
    assert "4 done, 0 failed, 0 not started" in applied.stdout
    assert settled.returncode == 0
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["outcome"] for line in lines] == ["attempted", "done"] * 4
    assert {line["tool"] for line in lines} == {"update_phone_number"}


async def test_a_mistyped_flag_on_a_plan_with_pending_changes_exits_1_so_a_pipeline_never_reads_it_as_pending(
    tmp_path: Path,
) -> None:
    db, document = str(tmp_path / "sandbox.db"), tmp_path / "account.json"
    assert (await cli("export", "--db", db, "--output", str(document))).returncode == 0
    wanted = json.loads(document.read_text())
    wanted["numbers"]["items"][0]["outbound_shareable"] = not wanted["numbers"]["items"][0]["outbound_shareable"]
    document.write_text(json.dumps(wanted))

    mistyped = await cli("plan", str(document), "--db", db, "--jsno")
    bare = await cli("plan", "--typo")
    pending = await cli("plan", str(document), "--db", db)

    assert (mistyped.returncode, bare.returncode) == (1, 1)
    assert "unrecognized arguments: --jsno" in mistyped.stderr
    assert "usage: mcp-anyreach" in bare.stderr
    assert mistyped.stdout == bare.stdout == ""
    assert pending.returncode == 2, "the same document, spelt right, has a change pending"


async def test_a_document_that_cannot_be_met_exits_1_with_the_reason_and_changes_nothing(tmp_path: Path) -> None:
    db, document = str(tmp_path / "sandbox.db"), tmp_path / "bad.yaml"
    document.write_text("numbers:\n  items:\n    - phone_number: '+12125550199'\n      trunk: Nowhere\n")

    planned = await cli("plan", str(document), "--db", db)
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("numbers: {items: [{phone_number: '+12125550199'}]}\n")
    broken = await cli("plan", str(invalid), "--db", db)

    assert planned.returncode == 1
    assert "No trunk is named 'Nowhere'" in planned.stderr
    assert broken.returncode == 1
    assert "numbers.items[0].trunk: Field required" in broken.stderr
    assert "anyreach://schema/desired-state" in broken.stderr


async def test_pruning_deletes_what_the_document_does_not_list_and_refuses_to_orphan_numbers(tmp_path: Path) -> None:
    db, document = str(tmp_path / "sandbox.db"), tmp_path / "prune.yaml"
    assert (await cli("export", "--db", db, "--output", str(document))).returncode == 0
    wanted = yaml.safe_load(document.read_text())
    wanted["numbers"] = {"prune": True, "items": wanted["numbers"]["items"][:2]}
    document.write_text(yaml.safe_dump(wanted))
    orphaning = dict(wanted, trunks={"prune": True, "items": []}, numbers={"items": []})
    refused_doc = tmp_path / "orphaning.yaml"
    refused_doc.write_text(yaml.safe_dump(orphaning))

    refused = await cli("plan", str(refused_doc), "--db", db)
    pruned = await cli("plan", str(document), "--db", db, "--json")

    assert refused.returncode == 1
    assert "is pruned, yet 3 numbers stay on it" in refused.stderr
    assert pruned.returncode == 2
    assert [step["action"] for step in json.loads(pruned.stdout)["steps"]] == ["delete_number"] * 3


async def test_apply_with_read_only_in_the_environment_refuses_and_writes_nothing(tmp_path: Path) -> None:
    db, document = str(tmp_path / "sandbox.db"), tmp_path / "account.yaml"
    assert (await cli("export", "--db", db, "--output", str(document))).returncode == 0
    wanted = yaml.safe_load(document.read_text())
    added = {"name": "Added while read-only", "inbound": {"allowed_addresses": ["203.0.113.40/32"]}}
    wanted["trunks"]["items"].append(added)
    document.write_text(yaml.safe_dump(wanted))
    log = tmp_path / "audit.jsonl"

    refused = await cli(
        "apply", str(document), "--db", db, "--auto-approve", "--audit-log", str(log), MCP_ANYREACH_READ_ONLY="1"
    )
    still_pending = await cli("plan", str(document), "--db", db)

    assert refused.returncode == 1
    assert "MCP_ANYREACH_READ_ONLY is set, so nothing may be changed" in refused.stderr
    assert "done" not in refused.stdout
    assert still_pending.returncode == 2, "the trunk was not created"
    assert not log.exists() or not log.read_text().strip()


async def test_a_file_over_the_size_cap_exits_1_saying_the_cap_and_how_to_split_it(tmp_path: Path) -> None:
    db, document = str(tmp_path / "sandbox.db"), tmp_path / "huge.yaml"
    document.write_text("# " + "x" * (4 * 1024 * 1024) + "\ntrunks: {items: []}\n")

    planned = await cli("plan", str(document), "--db", db)

    assert planned.returncode == 1
    assert "at most 4,194,304 (4096 KiB) are accepted here" in planned.stderr
    assert "split the file by section" in planned.stderr


async def test_a_file_that_gives_a_key_twice_exits_1_and_changes_nothing(tmp_path: Path) -> None:
    db, document = str(tmp_path / "sandbox.db"), tmp_path / "twice.yaml"
    document.write_text("numbers:\n  prune: false\n  items: []\n  prune: true\n")

    applied = await cli("apply", str(document), "--db", db, "--auto-approve")
    exported = await cli("export", "--db", db)

    assert applied.returncode == 1
    assert "the key 'prune' is given twice" in applied.stderr
    assert len(yaml.safe_load(exported.stdout)["numbers"]["items"]) > 0


async def test_plan_on_the_command_line_names_a_password_variable_its_environment_lacks(tmp_path: Path) -> None:
    """The command line's environment is its user's own: a missing password is said at plan time, in CI."""
    db, document = str(tmp_path / "sandbox.db"), tmp_path / "trunk.yaml"
    document.write_text(
        "trunks: {items: [{name: Carrier B, inbound: {auth_username: b, auth_password: {env: ANYREACH_SIP_ABSENT}}}]}\n"
    )

    planned = await cli("plan", str(document), "--db", db)

    assert planned.returncode == 1
    assert "ANYREACH_SIP_ABSENT are not set" in planned.stderr
