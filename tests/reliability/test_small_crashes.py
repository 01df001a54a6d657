"""The sandbox refuses what would break it later, tests ignore the developer's shell, and small crashes are gone."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from mcp_anyreach.sandbox import Sandbox, open_sandbox
from tests.sandbox.sandbox_helpers import key

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def sandbox() -> Sandbox:
    return open_sandbox(":memory:")


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox", headers=key(sandbox.seed.demo)) as c:
        yield c


# 12. The sandbox refuses invalid text and cursors, and a lost database file.


async def test_a_lone_surrogate_is_refused_and_routing_reads_keep_working(http: httpx2.AsyncClient) -> None:
    body = b'{"workflow_definition": {"greeting": "\\ud800"}, "enabled": true}'
    refused = await http.post("/core/inbound-routing-config", content=body, headers=JSON)
    read = await http.get("/core/inbound-routing-config")
    assert refused.status_code == 422
    assert "Unicode" in refused.text
    assert read.status_code == 200
    assert read.json() is None


async def test_a_valid_surrogate_pair_such_as_an_emoji_is_stored(http: httpx2.AsyncClient) -> None:
    body = b'{"workflow_definition": {"greeting": "\\ud83d\\ude00"}, "enabled": true}'
    created = await http.post("/core/inbound-routing-config", content=body, headers=JSON)
    assert created.status_code == 201
    assert (await http.get("/core/inbound-routing-config")).json()["workflow_definition"]["greeting"] == "\U0001f600"


async def test_a_cursor_whose_number_overflows_is_refused_as_invalid(http: httpx2.AsyncClient) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00.000000Z", 2**70]).encode()).decode()
    answer = await http.get("/core/phone-numbers", params={"cursor": cursor.rstrip("=")})
    assert answer.status_code == 400
    assert "Invalid cursor" in answer.text


async def test_a_sandbox_whose_database_file_disappeared_refuses_writes_instead_of_losing_them(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    sandbox = open_sandbox(path)
    path.unlink()
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox", headers=key(sandbox.seed.demo)) as c:
        write = await c.post("/core/trunks", json={"name": "Lost"})
    assert write.status_code == 503
    assert "removed or replaced" in write.json()["detail"]


# 16. Tests never read the developer's environment.


def test_a_developers_no_confirm_setting_does_not_change_what_the_tests_see(tmp_path: Path) -> None:
    env = {**os.environ, "MCP_ANYREACH_NO_CONFIRM": "1", "ANYREACH_TOKEN": "ak_from_the_shell"}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "tests/server/test_confirmation.py::test_purchase_without_confirmation_buys_nothing",
        ],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert completed.returncode == 0, completed.stdout.decode()[-2000:]
