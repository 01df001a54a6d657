from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import httpx2
from anyio.abc import ByteReceiveStream, Process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def read_all(stream: ByteReceiveStream | None) -> str:
    assert stream is not None
    chunks = [chunk async for chunk in stream]
    return b"".join(chunks).decode()


async def wait_until_serving(base_url: str, process: Process) -> None:
    async with httpx2.AsyncClient(base_url=base_url) as client:
        with anyio.fail_after(30):
            while True:
                assert process.returncode is None, "the sandbox exited before serving"
                try:
                    await client.get("/openapi.json")
                except httpx2.TransportError:
                    await anyio.sleep(0.05)
                else:
                    return


async def run_sandbox(db: Path, port: int, scenario: object) -> tuple[str, str]:
    """Start the CLI, run ``scenario(base_url, stderr_so_far)``, stop it; answer (stdout, stderr)."""
    command = [sys.executable, "-m", "mcp_anyreach", "sandbox", "--port", str(port), "--db", str(db)]
    process = await anyio.open_process(command, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_serving(base_url, process)
        await scenario(base_url)  # type: ignore[operator]
    finally:
        process.terminate()
        with anyio.fail_after(30):
            await process.wait()
    return await read_all(process.stdout), await read_all(process.stderr)


def exported(stderr: str) -> dict[str, str]:
    line = re.search(r"export (ANYREACH_BASE_URL=\S+ ANYREACH_TOKEN=\S+ ANYREACH_ORG_ID=\S+)", stderr)
    assert line is not None
    return dict(pair.split("=", 1) for pair in line.group(1).split())


async def test_the_cli_serves_on_a_port_and_keeps_credentials_and_state_across_restarts(tmp_path: Path) -> None:
    db, port = tmp_path / "sandbox.db", free_port()
    seen: dict[str, object] = {}

    async def first_run(base_url: str) -> None:
        seen["base_url"] = base_url

    stdout, stderr = await run_sandbox(db, port, first_run)
    assert stdout == ""
    credentials = exported(stderr)
    assert credentials["ANYREACH_BASE_URL"] == f"http://127.0.0.1:{port}"
    assert credentials["ANYREACH_TOKEN"].startswith("ak_")
    assert "pat_" in stderr
    assert "ma_" in stderr
    assert "Other Org" in stderr
    assert f'curl "http://127.0.0.1:{port}/core/phone-numbers?limit=50"' in stderr
    headers = {"Authorization": f"Bearer {credentials['ANYREACH_TOKEN']}"}

    async def second_run(base_url: str) -> None:
        async with httpx2.AsyncClient(base_url=base_url, headers=headers) as client:
            created = await client.post("/core/trunks", json={"name": "Persisted PBX"})
            assert created.status_code == 201
            numbers = await client.get("/core/phone-numbers")
            assert numbers.status_code == 200
            seen["numbers"] = numbers.json()

    stdout_again, stderr_again = await run_sandbox(db, port, second_run)
    assert exported(stderr_again) == credentials
    assert stdout_again == ""

    async def third_run(base_url: str) -> None:
        async with httpx2.AsyncClient(base_url=base_url, headers=headers) as client:
            assert (await client.get("/core/phone-numbers")).json() == seen["numbers"]
            trunks = await client.get("/core/trunks", params={"name": "Persisted"})
            assert [trunk["name"] for trunk in trunks.json()] == ["Persisted PBX"]

    await run_sandbox(db, port, third_run)
