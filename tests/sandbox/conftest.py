from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from mcp_anyreach.sandbox import Sandbox, open_sandbox


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox() -> Sandbox:
    return open_sandbox(number_limit=12)


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http
