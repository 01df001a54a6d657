"""The examples as users run them: scripts in subprocesses, each starting the real server over stdio on a
sandbox file of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
import yaml

from tests.server.procs import server_env

EXAMPLES = Path(__file__).parents[2] / "examples"
RUN_TIMEOUT = 120.0


async def run_example(script: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(RUN_TIMEOUT):
        completed = await anyio.run_process(
            [sys.executable, str(EXAMPLES / script), *args], env=server_env(), stdin=subprocess.DEVNULL, check=False
        )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    return completed


async def test_the_provision_pipeline_changes_the_sandbox_once_and_nothing_on_its_second_run(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")

    first = json.loads((await run_example("provision_pipeline.py", "--db", db, "--json")).stdout)
    second = json.loads((await run_example("provision_pipeline.py", "--db", db, "--json")).stdout)

    assert len(first["changes"]) == 6
    assert first["changes"][0].startswith("create BYOC trunk 'Pipeline carrier (BYOC)'")
    assert first["changes"][-1].startswith("create inbound routing")
    assert sum("'Support' v2 answers" in change for change in first["changes"]) == 2
    assert second["changes"] == []


async def test_the_gitops_document_plans_applies_and_then_has_nothing_to_do(tmp_path: Path) -> None:
    document = str(EXAMPLES / "gitops" / "telephony.yaml")
    db = str(tmp_path / "sandbox.db")
    env = server_env(ANYREACH_SIP_ACME_INBOUND="change-me-in-ci")

    async def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
        with anyio.fail_after(RUN_TIMEOUT):
            command = [sys.executable, "-m", "mcp_anyreach", *args, "--db", db]
            return await anyio.run_process(command, env=env, stdin=subprocess.DEVNULL, check=False)

    pending = await cli("plan", document)
    applied = await cli("apply", document, "--auto-approve")
    settled = await cli("plan", document)

    assert pending.returncode == 2, pending.stderr.decode()
    assert b"create BYOC trunk 'Acme carrier (BYOC)'" in pending.stdout
    assert b"password from $ANYREACH_SIP_ACME_INBOUND" in pending.stdout, "the reviewer sees where it is read"
    assert b"change-me-in-ci" not in pending.stdout + applied.stdout + applied.stderr
    assert applied.returncode == 0, applied.stderr.decode()
    assert settled.returncode == 0


@pytest.mark.parametrize(
    ("flags", "step_passes", "seen"),
    [("", True, "create BYOC trunk 'Acme carrier (BYOC)'"), (" --detailed", False, "unrecognized arguments")],
    ids=["pending-changes", "mistyped-flag"],
)
async def test_the_gitops_workflows_plan_step_passes_on_pending_changes_and_fails_on_a_mistyped_flag(
    tmp_path: Path, flags: str, step_passes: bool, seen: str
) -> None:
    gitops = EXAMPLES / "gitops"
    workflow = yaml.safe_load((gitops / ".github" / "workflows" / "telephony.yml").read_text())
    [script] = [step["run"] for step in workflow["jobs"]["plan"]["steps"] if "mcp-anyreach plan" in step.get("run", "")]
    env = server_env(
        ANYREACH_SIP_ACME_INBOUND="change-me-in-ci",
        MCP_ANYREACH_DB=str(tmp_path / "sandbox.db"),
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # where this checkout's mcp-anyreach is
    )

    with anyio.fail_after(RUN_TIMEOUT):
        step = await anyio.run_process(
            # how GitHub Actions runs a `run:` step on ubuntu
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script.replace(".yaml", f".yaml{flags}")],
            cwd=gitops,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    assert (step.returncode == 0) is step_passes, step.stderr.decode()
    assert seen.encode() in step.stdout + step.stderr


async def test_the_audit_report_writes_markdown_findings_from_a_read_only_server(tmp_path: Path) -> None:
    report = tmp_path / "audit.md"

    completed = await run_example("audit_report.py", "--db", str(tmp_path / "sandbox.db"), "--output", str(report))

    text = report.read_text()
    assert completed.stdout.startswith(f"wrote {report}".encode())
    assert text.startswith("# Telephony audit")
    assert "none writable" in text
    assert "> Sandbox: demo data" in text
    high = [line for line in text.splitlines() if line.startswith("| high |")]
    assert any("+14155550102" in line for line in high), "the seeded managed number no agent answers"
    assert "assign_agent_to_numbers" in text


def test_the_client_configs_are_valid_json_that_start_the_server_over_stdio_and_reach_it_over_http() -> None:
    desktop = json.loads((EXAMPLES / "claude_desktop_config.json").read_text())
    editors = json.loads((EXAMPLES / "mcp.json").read_text())

    assert desktop["mcpServers"]["anyreach"]["command"] == "mcp-anyreach"
    assert editors["mcpServers"]["anyreach"]["command"] == "mcp-anyreach"
    assert editors["mcpServers"]["anyreach-http"]["url"] == "http://127.0.0.1:8000/mcp"
