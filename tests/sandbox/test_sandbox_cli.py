from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx2
from anyio.abc import ByteReceiveStream

START_TIMEOUT = 60.0
BANNER_END = re.compile(r'-H "X-Anyreach-Org: \$ANYREACH_ORG_ID"\n')
LISTENING = re.compile(r"Anyreach sandbox listening on (http://\S+)")


async def read_all(stream: ByteReceiveStream | None) -> str:
    assert stream is not None
    chunks = [chunk async for chunk in stream]
    return b"".join(chunks).decode()


async def read_banner(stream: ByteReceiveStream | None) -> str:
    """Stderr up to the end of the start-up banner, which the sandbox prints once it accepts connections."""
    assert stream is not None
    seen = ""
    with anyio.fail_after(START_TIMEOUT):
        while not BANNER_END.search(seen):
            try:
                seen += (await stream.receive()).decode()
            except anyio.EndOfStream:
                raise AssertionError(f"the sandbox exited before serving:\n{seen}") from None
    return seen


async def run_sandbox(db: Path, scenario: Callable[[str], Awaitable[None]]) -> tuple[str, str]:
    """Start the CLI on any free port, run ``scenario(base_url)`` against the URL it announces, stop it;
    answer (stdout, stderr)."""
    command = [sys.executable, "-m", "mcp_anyreach", "sandbox", "--port", "0", "--db", str(db)]
    process = await anyio.open_process(command, stdin=subprocess.DEVNULL)
    try:
        banner = await read_banner(process.stderr)
        listening = LISTENING.search(banner)
        assert listening is not None, banner
        await scenario(listening.group(1))
    finally:
        process.terminate()
        with anyio.fail_after(30):
            await process.wait()
    return await read_all(process.stdout), banner + await read_all(process.stderr)


def member_token(stderr: str) -> tuple[str, list[str]]:
    """The demo user's token and the organizations the banner says it may name."""
    line = re.search(r"personal token +(pat_\S+) +\(send X-Anyreach-Org: (\S+) or (\S+)\)", stderr)
    assert line is not None, stderr
    return line.group(1), [line.group(2), line.group(3)]


def exported(stderr: str) -> dict[str, str]:
    line = re.search(r"export (ANYREACH_BASE_URL=\S+ ANYREACH_TOKEN=\S+ ANYREACH_ORG_ID=\S+)", stderr)
    assert line is not None
    return dict(pair.split("=", 1) for pair in line.group(1).split())


async def test_the_cli_serves_on_the_url_it_announces_and_keeps_credentials_and_state_across_restarts(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sandbox.db"
    seen: dict[str, object] = {}

    async def first_run(base_url: str) -> None:
        async with httpx2.AsyncClient(base_url=base_url) as client:
            assert (await client.get("/openapi.json")).status_code == 200
        seen["base_url"] = base_url

    stdout, stderr = await run_sandbox(db, first_run)
    assert stdout == ""
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", str(seen["base_url"]))
    assert f"Database {db}" in stderr
    credentials = exported(stderr)
    assert credentials["ANYREACH_BASE_URL"] == seen["base_url"]
    assert credentials["ANYREACH_TOKEN"].startswith("ak_")
    assert "pat_" in stderr
    assert "ma_" in stderr
    assert "Other Org" in stderr
    assert f'curl "{seen["base_url"]}/core/phone-numbers?limit=50"' in stderr
    headers = {"Authorization": f"Bearer {credentials['ANYREACH_TOKEN']}"}

    async def second_run(base_url: str) -> None:
        async with httpx2.AsyncClient(base_url=base_url, headers=headers) as client:
            created = await client.post("/core/trunks", json={"name": "Persisted PBX"})
            assert created.status_code == 201
            numbers = await client.get("/core/phone-numbers")
            assert numbers.status_code == 200
            seen["numbers"] = numbers.json()

    stdout_again, stderr_again = await run_sandbox(db, second_run)
    credentials_again = exported(stderr_again)
    assert {key: credentials_again[key] for key in ("ANYREACH_TOKEN", "ANYREACH_ORG_ID")} == {
        key: credentials[key] for key in ("ANYREACH_TOKEN", "ANYREACH_ORG_ID")
    }
    assert member_token(stderr_again) == member_token(stderr)
    assert credentials["ANYREACH_ORG_ID"] in member_token(stderr)[1]
    assert stdout_again == ""

    async def third_run(base_url: str) -> None:
        async with httpx2.AsyncClient(base_url=base_url, headers=headers) as client:
            assert (await client.get("/core/phone-numbers")).json() == seen["numbers"]
            trunks = await client.get("/core/trunks", params={"name": "Persisted"})
            assert [trunk["name"] for trunk in trunks.json()] == ["Persisted PBX"]

    await run_sandbox(db, third_run)
