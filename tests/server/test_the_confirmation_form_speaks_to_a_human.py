"""The elicitation form a human sees: its title and text are sentences for them, not the server's docstrings.

Read on the wire, from the real stdio server: the SDK's own client drops a form's title and description
when it parses the request, but the clients people use (the TypeScript SDK's hosts) show them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process

from tests.server.procs import SERVER_COMMAND, server_env, stop

TIMEOUT = 60.0


class JsonLines:
    """One JSON-RPC message per line on the server's stdin and stdout, as the stdio transport speaks."""

    def __init__(self, process: Process) -> None:
        assert process.stdin is not None
        assert process.stdout is not None
        self._stdin, self._stdout = process.stdin, process.stdout
        self._buffer = b""

    async def send(self, message: dict[str, Any]) -> None:
        await self._stdin.send(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")

    async def receive(self) -> dict[str, Any]:
        while b"\n" not in self._buffer:
            self._buffer += await self._stdout.receive()
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)


async def first_question(log: Path, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The elicitation request the stdio server sends a client that can ask its user, for one gated call."""
    command = [*SERVER_COMMAND, "--db", ":memory:"]
    with log.open("wb") as errors:
        process = await anyio.open_process(command, stdout=subprocess.PIPE, stderr=errors, env=server_env())
    async with process:
        try:
            wire = JsonLines(process)
            initialize: dict[str, Any] = {
                "protocolVersion": "2025-11-25",
                "capabilities": {"elicitation": {}},
                "clientInfo": {"name": "a-host", "version": "1"},
            }
            await wire.send({"id": 1, "method": "initialize", "params": initialize})
            assert "result" in await wire.receive()
            await wire.send({"method": "notifications/initialized"})
            await wire.send({"id": 2, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
            while (message := await wire.receive()).get("method") != "elicitation/create":
                pass
            return message["params"]
        finally:
            with anyio.CancelScope(shield=True):
                await stop(process)


async def test_the_confirmation_form_shows_the_human_a_title_and_sentence_meant_for_them(tmp_path: Path) -> None:
    with anyio.fail_after(TIMEOUT):
        question = await first_question(tmp_path / "stderr.log", "create_trunk", {"name": "Night line"})

    form = question["requestedSchema"]
    assert form["title"] == "Confirm this change"
    assert form["description"] == "Read the change above, then decide."
    assert form["properties"]["confirm"]["title"] == "Proceed"
    assert "Night line" in question["message"], "the change itself is in the message above the form"
