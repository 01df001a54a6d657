"""Exit codes mean one thing for every command, as a pipeline reads them: 1 is any failure (a mistyped flag
and a bad configuration included), 2 only `plan`'s changes pending (tests/test_change_commands.py), and
`mcp-anyreach --help` prints the table. Real subprocesses, as a shell runs them."""

from __future__ import annotations

import subprocess
import sys

import anyio
import pytest

from tests.server.procs import server_env

RUN_TIMEOUT = 60.0
COMMANDS = ["serve", "sandbox", "demo", "doctor", "export", "plan", "apply"]


async def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    with anyio.fail_after(RUN_TIMEOUT):
        done = await anyio.run_process(
            [sys.executable, "-m", "mcp_anyreach", *args], env=server_env(**env), stdin=subprocess.DEVNULL, check=False
        )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.mark.parametrize("command", [*COMMANDS, None], ids=[*COMMANDS, "no-command"])
async def test_an_unknown_flag_exits_1_with_the_usage_on_stderr_for_every_command(command: str | None) -> None:
    done = await cli(*([command] if command else []), "--typo")

    assert done.returncode == 1
    assert "usage: mcp-anyreach" in done.stderr
    assert "error:" in done.stderr
    assert done.stdout == ""


async def test_a_value_of_the_wrong_kind_exits_1_naming_the_flag() -> None:
    done = await cli("doctor", "--timeout", "soon")

    assert done.returncode == 1
    assert "usage: mcp-anyreach doctor" in done.stderr
    assert "--timeout: invalid float value: 'soon'" in done.stderr


@pytest.mark.parametrize(
    "command", [["serve", "--db", ":memory:"], ["doctor"], ["export", "--db", ":memory:"]], ids=lambda c: c[0]
)
async def test_an_invalid_configuration_exits_1_saying_what_to_fix(command: list[str]) -> None:
    done = await cli(*command, MCP_ANYREACH_PORT="eighty")

    assert done.returncode == 1
    assert "invalid configuration" in done.stderr
    assert "MCP_ANYREACH_PORT" in done.stderr


async def test_the_main_help_prints_what_each_exit_code_means() -> None:
    done = await cli("--help")

    assert done.returncode == 0
    table = done.stdout[done.stdout.index("exit codes") :].splitlines()
    assert [line.split()[0] for line in table[1:] if line[:3].strip().isdigit()] == ["0", "1", "2"]
    assert "usage or configuration error" in done.stdout
    assert "plan only: changes pending" in done.stdout
