"""`mcp-anyreach doctor` and the server's start-up checks, against a sandbox on a real loopback port and against
an address that refuses connections: each failure names its fix, and the exit code says whether a server can work."""

from __future__ import annotations

import functools
import io
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.cli.credentials import credential_problem
from mcp_anyreach.cli.doctor.diagnosis import diagnose, run_doctor
from mcp_anyreach.cli.doctor.output import render
from mcp_anyreach.cli.doctor.report import Report
from mcp_anyreach.domain.managed_account import ManagedAccount
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.sandbox import open_sandbox
from mcp_anyreach.sandbox.store import trunks
from mcp_anyreach.sandbox.store.db import new_uuid
from mcp_anyreach.sandbox.store.orgs import ALL_SCOPES
from mcp_anyreach.settings import Settings
from tests.reliability.live import LiveSandbox, live_sandbox
from tests.server.loopback import free_port
from tests.server.procs import SERVER_COMMAND, server_env

RUN_TIMEOUT = 60.0
WITHOUT_TRUNKS = "ak_doctor_without_trunks_read"
WITHOUT_MANAGED = "ak_doctor_without_managed_accounts_read"
NO_MANAGED_TRUNK = "ak_doctor_org_without_managed_trunks"
WITHOUT_AGENTS = "ak_doctor_without_agents_read"
TWO_MANAGED_ACCOUNTS = "ak_doctor_org_with_two_managed_accounts"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def live() -> AsyncIterator[LiveSandbox]:
    async with live_sandbox() as running:
        store, demo = running.sandbox.store, running.sandbox.seed.demo
        all_but = {
            WITHOUT_TRUNKS: {"trunks:read"},
            WITHOUT_MANAGED: {"managed_accounts:read"},
            WITHOUT_AGENTS: {"agents:read", "agents:manage"},
        }
        for key, missing in all_but.items():
            store.organizations.add_credential(demo.org_id, key, tuple(set(ALL_SCOPES) - missing))
        bare_org = store.organizations.create("No Managed Trunks Ltd")
        store.organizations.add_credential(bare_org, NO_MANAGED_TRUNK, ALL_SCOPES)
        two_accounts = store.organizations.create("Two Managed Accounts Ltd")
        store.organizations.add_credential(two_accounts, TWO_MANAGED_ACCOUNTS, ALL_SCOPES)
        with store.db.transaction() as tx:
            for carrier in ("Twilio", "Telnyx"):
                account = store.organizations.add_managed_account(two_accounts, f"Anyreach managed ({carrier})")
                trunks.insert(tx, new_uuid(), two_accounts, f"{carrier} managed numbers", account, store.db.now())
        yield running


DEMO_ORG = "the demo organization"


def settings_for(live: LiveSandbox, **fields: Any) -> Settings:
    given = {"token": live.sandbox.seed.demo.api_key, "base_url": live.base_url, **fields}
    if given.get("org_id") == DEMO_ORG:  # the parameters are written before the sandbox exists
        given["org_id"] = live.sandbox.seed.demo.org_id
    return Settings.model_validate({key: value for key, value in given.items() if value is not None})


def holdings(live: LiveSandbox) -> list[tuple[object, ...]]:
    """Every trunk and number the sandbox holds, as stored."""
    db = live.sandbox.store.db
    return [tuple(row) for sql in ("SELECT * FROM trunks", "SELECT * FROM phone_numbers") for row in db.query(sql)]


def statuses(report: Report) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


def failed(report: Report) -> dict[str, str]:
    """Each failed check and its fix."""
    return {check.name: check.fix or "" for check in report.checks if check.status == "fail"}


async def exit_code(settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    """`run_doctor --json` as the command runs it (its own event loop, in a worker thread): code and report."""
    code = await anyio.to_thread.run_sync(functools.partial(run_doctor, settings, as_machine_readable=True))
    return code, json.loads(capsys.readouterr().out)


async def test_every_check_passes_for_a_sandbox_account_and_the_command_exits_zero(live: LiveSandbox) -> None:
    held = holdings(live)
    with anyio.fail_after(RUN_TIMEOUT):
        before = live.counts.copy()
        table = await anyio.run_process(
            [*SERVER_COMMAND, "doctor"], env=live.env(), stdin=subprocess.DEVNULL, check=False
        )
        read_write = live.counts - before
        before = live.counts.copy()
        machine = await anyio.run_process(
            [*SERVER_COMMAND, "doctor", "--json", "--read-only"], env=live.env(), stdin=subprocess.DEVNULL, check=False
        )
        read_only = live.counts - before

    assert table.returncode == 0, table.stdout.decode()
    text = table.stdout.decode()
    assert "Ready: a read-write server can use this account." in text
    assert "FAIL" not in text
    assert live.sandbox.seed.demo.managed_account_id in text
    assert live.sandbox.seed.demo.api_key not in text + table.stderr.decode()
    report = json.loads(machine.stdout)
    assert (machine.returncode, report["ok"], report["read_only"]) == (0, True, True)
    assert {check["status"] for check in report["checks"]} <= {"ok", "skip"}
    assert set(read_only) == {"GET"}, "a read-only doctor only reads"
    assert set(read_write) == {"GET", "POST"}
    assert read_write["POST"] == 2, "two empty POSTs probe the write scopes"
    assert holdings(live) == held, "doctor changes nothing"


@pytest.mark.parametrize(
    ("fields", "check", "fix"),
    [
        ({"token": None}, "token format", "Set ANYREACH_TOKEN"),
        ({"token": "bearer-of-bad-news"}, "token format", "API key"),
        ({"token": "ak_ spaced"}, "token format", "without surrounding quotes"),
        ({"token": "pat_abc"}, "token format", "ANYREACH_ORG_ID"),
        ({"token": "ak_not_a_real_key"}, "credential", "Check ANYREACH_TOKEN"),
        ({"token": WITHOUT_TRUNKS}, "scope trunks:read", "trunks:read"),
        ({"token": WITHOUT_MANAGED}, "scope managed_accounts:read", "managed_accounts:read"),
        ({"token": WITHOUT_AGENTS}, "scope agents:read", "agents:read"),
        ({"managed_account_id": "ma_not_ours"}, "managed account", "ANYREACH_MANAGED_ACCOUNT_ID"),
        ({"token": NO_MANAGED_TRUNK}, "managed account", "ANYREACH_MANAGED_ACCOUNT_ID"),
        ({"audit_log": "/nonexistent-dir/audit.jsonl"}, "audit log", "--audit-log"),
        ({"token_store": "/nonexistent-dir/tokens.db", "org_id": DEMO_ORG}, "token store", "--token-store"),
    ],
    ids=[
        "no-token",
        "unknown-format",
        "whitespace",
        "pat-without-org",
        "refused-credential",
        "missing-read-scope",
        "missing-managed-accounts-scope",
        "missing-agents-scope",
        "wrong-managed-account",
        "no-managed-account-to-find",
        "audit-log-unwritable",
        "token-store-unwritable",
    ],
)
async def test_each_failure_names_its_fix_and_makes_the_exit_code_one(
    live: LiveSandbox, capsys: pytest.CaptureFixture[str], fields: dict[str, Any], check: str, fix: str
) -> None:
    settings = settings_for(live, **fields)

    report = await diagnose(settings)
    code, machine = await exit_code(settings, capsys)

    assert list(failed(report)) == [check]
    assert fix in failed(report)[check]
    assert code == 1
    assert machine["ok"] is False
    assert {entry["name"]: entry["status"] for entry in machine["checks"]}[check] == "fail"


async def test_a_read_only_key_is_not_ready_for_a_read_write_server_and_doctor_buys_nothing_to_find_out(
    live: LiveSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    read_only_key = live.sandbox.seed.demo.read_only_key
    held = holdings(live)
    with anyio.fail_after(RUN_TIMEOUT):
        table = await anyio.run_process(
            [*SERVER_COMMAND, "doctor"], env=live.env(read_only_key), stdin=subprocess.DEVNULL, check=False
        )
    report = await diagnose(settings_for(live, token=read_only_key))
    code, _ = await exit_code(settings_for(live, token=read_only_key, read_only=True), capsys)
    checks = {check.name: check for check in report.checks}

    assert table.returncode == 1
    assert "Ready" not in table.stdout.decode()
    assert "2 check(s) failed" in table.stdout.decode()
    assert list(failed(report)) == ["scope trunks:manage", "scope phone_numbers:manage"]
    assert "--read-only" in failed(report)["scope trunks:manage"]
    assert checks["other write scopes"].status == "skip"
    assert "unverified: managed_accounts:manage, inbound_routing_configs:manage, agents:manage" in (
        checks["other write scopes"].detail
    )
    assert statuses(report)["scope agents:read"] == "ok"
    assert code == 0, "the same key serves a read-only server"
    assert holdings(live) == held
    assert read_only_key not in table.stdout.decode() + table.stderr.decode()


async def test_a_write_probe_answered_with_neither_403_nor_422_is_reported_unverified_not_granted() -> None:
    async def created_anyway(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            await JSONResponse({"id": "surprise"}, status_code=201)(scope, receive, send)
        else:
            await sandbox.app(scope, receive, send)

    sandbox = open_sandbox(":memory:")
    async with live_sandbox(sandbox, wrap=lambda app: created_anyway) as running:
        report = await diagnose(settings_for(running))
    checks = {check.name: check for check in report.checks}

    assert failed(report) == {}
    assert checks["scope trunks:manage"].status == "warn"
    assert checks["scope trunks:manage"].detail.startswith("unverified: an empty POST /core/trunks answered 201")
    assert checks["scope phone_numbers:manage"].status == "warn"


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
async def test_a_reader_that_stops_reading_early_leaves_no_broken_pipe_traceback(
    live: LiveSandbox, as_json: bool
) -> None:
    command = [*SERVER_COMMAND, "doctor", *(["--json"] if as_json else [])]
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before doctor prints a line, as after `| head -0`
    try:
        with anyio.fail_after(RUN_TIMEOUT):
            completed = await anyio.run_process(
                command, env=live.env(), stdin=subprocess.DEVNULL, stdout=writer, check=False
            )
    finally:
        os.close(writer)
    stderr = completed.stderr.decode()

    assert "BrokenPipeError" not in stderr
    assert "Traceback" not in stderr
    assert completed.returncode == 0, "the report itself was ready"


async def test_read_only_checks_only_what_a_read_only_server_needs(
    live: LiveSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    unwritable = "/nonexistent-dir/audit.jsonl"
    settings = settings_for(live, token=NO_MANAGED_TRUNK, read_only=True, audit_log=unwritable)

    report = await diagnose(settings)
    code, _ = await exit_code(settings, capsys)

    assert failed(report) == {}
    assert statuses(report)["managed account"] == "warn", "searching needs it, but a read-only server starts"
    assert statuses(report)["audit log"] == "skip"
    assert statuses(report)["write scopes"] == "skip"
    assert code == 0


async def test_trunks_of_two_managed_accounts_fail_doctor_and_refuse_the_servers_search_naming_both(
    live: LiveSandbox,
) -> None:
    settings = settings_for(live, token=TWO_MANAGED_ACCOUNTS)

    report = await diagnose(settings)
    async with AnyreachClient(live.base_url, TWO_MANAGED_ACCOUNTS, read_only=True) as client:
        with pytest.raises(Refusal) as refused:
            await ManagedAccount(client, configured=None).id()

    credential = live.sandbox.store.organizations.credential(TWO_MANAGED_ACCOUNTS)
    assert credential is not None
    sql = "SELECT managed_account_id FROM trunks WHERE org_id = ?"
    accounts = [row[0] for row in live.sandbox.store.db.query(sql, (credential.organization_id,))]
    doctor_says = next(check.detail for check in report.checks if check.name == "managed account")

    assert list(failed(report)) == ["managed account"]
    assert "ANYREACH_MANAGED_ACCOUNT_ID" in failed(report)["managed account"]
    assert "ANYREACH_MANAGED_ACCOUNT_ID" in str(refused.value)
    assert len(accounts) == 2
    for account in accounts:
        assert account in doctor_says
        assert account in str(refused.value)


async def test_an_address_that_refuses_connections_fails_at_tcp_and_skips_everything_that_needs_the_api(
    capsys: pytest.CaptureFixture[str],
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = Settings.model_validate({"token": "ak_anything", "base_url": closed})

    report = await diagnose(settings, per_check=5)
    code, _ = await exit_code(settings, capsys)

    assert failed(report) == {"TCP": failed(report)["TCP"]}
    assert "reachable" in failed(report)["TCP"]
    tcp = next(check for check in report.checks if check.name == "TCP")
    assert "refused" in tcp.detail
    assert statuses(report)["credential"] == "skip"
    assert statuses(report)["scope trunks:read"] == "skip"
    assert code == 1


async def test_a_tls_url_to_a_plain_http_port_fails_at_tls_with_its_fix(live: LiveSandbox) -> None:
    report = await diagnose(settings_for(live, base_url=f"https://127.0.0.1:{live.port}"), per_check=5)

    assert list(failed(report)) == ["TLS"]
    assert "http://" in failed(report)["TLS"]


async def test_the_table_shows_each_failure_with_its_fix_under_it(live: LiveSandbox) -> None:
    with anyio.fail_after(RUN_TIMEOUT):
        completed = await anyio.run_process(
            [*SERVER_COMMAND, "doctor"], env=live.env("ak_not_a_real_key"), stdin=subprocess.DEVNULL, check=False
        )
    lines = completed.stdout.decode().splitlines()
    row = next(index for index, line in enumerate(lines) if line.split()[:2] == ["credential", "FAIL"])

    assert completed.returncode == 1
    assert lines[row + 1].strip().startswith("fix: Check ANYREACH_TOKEN")
    assert "1 check(s) failed" in lines[-1]
    assert "ak_not_a_real_key" not in completed.stdout.decode()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ANYREACH_TOKEN": "Bearer ak_pasted_whole"}, "spaces"),
        ({"ANYREACH_TOKEN": "sk_from_another_vendor"}, "neither an API key"),
        ({"ANYREACH_TOKEN": "pat_without_organization"}, "ANYREACH_ORG_ID"),
    ],
    ids=["whitespace", "unknown-format", "pat-without-org"],
)
async def test_the_server_refuses_to_start_on_a_malformed_credential_without_showing_it(
    env: dict[str, str], expected: str
) -> None:
    with anyio.fail_after(RUN_TIMEOUT):
        completed = await anyio.run_process(
            [*SERVER_COMMAND, "--db", ":memory:"], env=server_env(**env), stdin=subprocess.DEVNULL, check=False
        )
    stderr = completed.stderr.decode()

    assert completed.returncode == 1
    assert expected in stderr
    assert "doctor" in stderr
    assert env["ANYREACH_TOKEN"].split()[-1] not in stderr
    assert completed.stdout == b""


async def test_an_unreachable_api_is_logged_with_its_url_and_cause_and_the_tools_work_once_it_answers(
    tmp_path: Path,
) -> None:
    sandbox = open_sandbox(":memory:")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = server_env(ANYREACH_TOKEN=sandbox.seed.demo.api_key, ANYREACH_BASE_URL=base_url)
    params = StdioServerParameters(command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:]], env=env)
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as errlog, anyio.fail_after(RUN_TIMEOUT):
        async with Client(stdio_client(params, errlog=errlog)) as client:
            line = await logged_line(stderr, "cannot be reached")
            async with live_sandbox(sandbox, port):
                result = await client.call_tool("list_trunks", {})

    assert base_url in line
    assert "refused" in line
    assert "doctor" in line
    assert not result.is_error, result.content
    assert sandbox.seed.demo.api_key not in stderr.read_text()


async def logged_line(log: Path, needle: str) -> str:
    """The first line of `log` containing `needle`, once it is there (the caller bounds the wait)."""
    while True:
        found = [line for line in (await anyio.Path(log).read_text()).splitlines() if needle in line]
        if found:
            return found[0]
        await anyio.sleep(0.05)


PASSWORD, QUERY_SECRET = "hunter2-canary-in-url", "query-canary-in-url"


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize(
    "form",
    ["http://apiuser:{password}@127.0.0.1:{port}/v1?api_key={query}", "apiuser:{password}@api"],
    ids=["userinfo-and-query", "no-scheme"],
)
async def test_credentials_in_the_base_url_never_show_in_the_doctor_report(form: str, as_json: bool) -> None:
    port = free_port()
    base_url = form.format(password=PASSWORD, port=port, query=QUERY_SECRET)
    env = server_env(ANYREACH_TOKEN="ak_anything", ANYREACH_BASE_URL=base_url)
    with anyio.fail_after(RUN_TIMEOUT):
        completed = await anyio.run_process(
            [*SERVER_COMMAND, "doctor", *(["--json"] if as_json else []), "--timeout", "5"],
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    output = completed.stdout.decode() + completed.stderr.decode()

    assert completed.returncode == 1
    assert PASSWORD not in output
    assert QUERY_SECRET not in output
    shown = json.loads(completed.stdout)["base_url"] if as_json else output.splitlines()[0]
    assert (f"http://127.0.0.1:{port}/v1" if "://" in form else "api") in shown


async def test_credentials_in_the_base_url_never_show_in_the_start_up_line_or_the_unreachable_warning(
    tmp_path: Path,
) -> None:
    port = free_port()
    base_url = f"http://apiuser:{PASSWORD}@127.0.0.1:{port}/?api_key={QUERY_SECRET}"
    env = server_env(ANYREACH_TOKEN="ak_anything", ANYREACH_BASE_URL=base_url)
    params = StdioServerParameters(command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:]], env=env)
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as errlog, anyio.fail_after(RUN_TIMEOUT):
        async with Client(stdio_client(params, errlog=errlog)):
            started = await logged_line(stderr, "Anyreach API at")
            warned = await logged_line(stderr, "cannot be reached")

    assert f"http://127.0.0.1:{port}" in started
    assert f"http://127.0.0.1:{port}" in warned
    assert PASSWORD not in stderr.read_text()
    assert QUERY_SECRET not in stderr.read_text()


def both_demo_organizations(live: LiveSandbox, *more: str) -> str:
    """ANYREACH_ORG_ID naming both demo organizations (the first by a display name), then `more`."""
    seed = live.sandbox.seed
    return ",".join([f"{seed.demo.org_id}=Demo Telephony Co", seed.other.org_id, *more])


def sections(machine: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each organization's section of a JSON report, by id: its name, ok and checks by name."""
    return {
        section["id"]: {**section, "checks": {check["name"]: check for check in section["checks"]}}
        for section in machine["organizations"]
    }


async def test_with_several_organizations_each_is_checked_in_its_own_section_with_its_own_managed_account(
    live: LiveSandbox,
) -> None:
    seed = live.sandbox.seed
    env = live.env(seed.user.pat, ANYREACH_ORG_ID=both_demo_organizations(live))
    with anyio.fail_after(RUN_TIMEOUT):
        table = await anyio.run_process([*SERVER_COMMAND, "doctor"], env=env, stdin=subprocess.DEVNULL, check=False)
        before = live.counts.copy()
        machine = await anyio.run_process(
            [*SERVER_COMMAND, "doctor", "--json"], env=env, stdin=subprocess.DEVNULL, check=False
        )
        sent = live.counts - before
    text = table.stdout.decode()
    report = json.loads(machine.stdout)
    by_id = sections(report)
    demo_section = text[text.index(f"organization Demo Telephony Co ({seed.demo.org_id})") :]
    other_section = demo_section[demo_section.index(f"\norganization {seed.other.org_id}\n") :]

    assert table.returncode == machine.returncode == 0, text
    assert "Ready: a read-write server can use these 2 organizations." in text
    assert "for 2 organizations, each checked below" in text
    assert seed.demo.managed_account_id in demo_section.removesuffix(other_section)
    assert seed.other.managed_account_id in other_section
    assert report["ok"] is True
    assert [(section["id"], section["name"]) for section in report["organizations"]] == [
        (seed.demo.org_id, "Demo Telephony Co"),
        (seed.other.org_id, seed.other.org_id),
    ]
    for section in by_id.values():
        assert section["ok"] is True
        assert section["checks"]["credential"]["status"] == "ok"
        assert section["checks"]["scope phone_numbers:manage"]["status"] == "ok"
    assert "credential" not in {check["name"] for check in report["checks"]}, "the API is checked per organization"
    assert sent["POST"] == 4, "two empty POSTs in each organization"
    assert seed.user.pat not in text + table.stderr.decode() + machine.stdout.decode()


async def test_an_organization_the_user_is_not_in_is_said_to_be_one_and_fails_the_doctor(
    live: LiveSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = live.sandbox.seed
    credential = live.sandbox.store.organizations.credential(NO_MANAGED_TRUNK)
    assert credential is not None
    stranger = credential.organization_id
    settings = settings_for(live, token=seed.user.pat, org_id=both_demo_organizations(live, stranger))

    code, machine = await exit_code(settings, capsys)
    report = await diagnose(settings)

    render(report, (table := io.StringIO()))
    refused = sections(machine)[stranger]["checks"]

    assert code == 1
    assert machine["ok"] is False
    assert [section["ok"] for section in machine["organizations"]] == [True, True, False]
    assert refused["credential"]["status"] == "fail"
    assert f"this token's user is not a member of {stranger}" in refused["credential"]["detail"]
    assert refused["credential"]["fix"].startswith(
        "ANYREACH_ORG_ID lists an organization this token's user is not in: remove " + stranger
    )
    assert [check["status"] for name, check in refused.items() if name != "credential"] == ["skip"] * (
        len(refused) - 1
    ), "not four missing scopes"
    assert not any("lacks" in check["detail"] for check in refused.values())
    assert f"Organizations with a failure: {stranger}." in table.getvalue()


def test_a_personal_token_for_several_organizations_is_well_formed_and_one_for_none_is_not() -> None:
    assert credential_problem("pat_person", ["org_a", "org_b"]) is None
    problem = credential_problem("pat_person", [])
    assert problem is not None
    assert "ANYREACH_ORG_ID" in problem.fix


async def test_the_server_does_not_refuse_a_personal_token_with_several_organizations_as_lacking_one() -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing is served: only the start-up checks are looked at
    env = server_env(ANYREACH_TOKEN="pat_person", ANYREACH_ORG_ID="org_a=Acme,org_b", ANYREACH_BASE_URL=closed)
    with anyio.fail_after(RUN_TIMEOUT):
        completed = await anyio.run_process(SERVER_COMMAND, env=env, stdin=subprocess.DEVNULL, check=False)

    assert "needs the organization it acts for" not in completed.stderr.decode()
