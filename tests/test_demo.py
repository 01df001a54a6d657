"""`mcp-anyreach demo` as a user runs it: the real server in a subprocess, driven through the whole mission."""

from __future__ import annotations

import subprocess
from pathlib import Path

import anyio

from tests.server.procs import SERVER_COMMAND, server_env

RUN_TIMEOUT = 180.0
MISSION = [
    "read resource anyreach://inventory",
    "search_available_numbers",
    "status: confirmation_required",
    "create_trunk",
    "register_phone_number",
    "assign_agent_to_numbers",
    "inbound_routing_config",
    "audit_inventory",
    "delete_phone_number",
    "The server asks the human:",
    "audit_inventory -> ui://anyreach/inventory.html",
    "== Summary ==",
]


async def demo(*flags: str) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(RUN_TIMEOUT):
        return await anyio.run_process(
            [*SERVER_COMMAND, "demo", *flags], env=server_env(), stdin=subprocess.DEVNULL, check=False
        )


async def test_the_demo_walks_the_mission_in_order_and_runs_again_on_a_kept_database(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")

    first = await demo("--db", db)
    again = await demo("--db", db)

    assert first.returncode == 0, first.stderr.decode(errors="replace")
    assert again.returncode == 0, again.stderr.decode(errors="replace")
    output = first.stdout.decode()
    positions = [output.find(marker) for marker in MISSION]
    assert -1 not in positions, [marker for marker, at in zip(MISSION, positions, strict=True) if at == -1]
    assert positions == sorted(positions)
    assert "create_inbound_routing_config" in output
    assert "update_inbound_routing_config" in again.stdout.decode(), "the kept database already has routing"
