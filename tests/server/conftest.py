"""Fixtures that join the real MCP server to the real sandbox, in-process, with nothing mocked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp_types import ElicitRequestParams, ElicitResult

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings

ERAS = ["auto", "legacy"]


@pytest.fixture
def sandbox() -> Sandbox:
    return open_sandbox(":memory:")


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[AnyreachClient]:
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with AnyreachClient("http://sandbox.test", sandbox.seed.demo.api_key, transport=transport) as client:
        yield client


ServerFactory = Callable[..., MCPServer]


@pytest.fixture
async def make_server(sandbox: Sandbox, api: AnyreachClient) -> AsyncIterator[ServerFactory]:
    """`make_server(read_only=True, ...)`: a server on the demo org; keyword arguments are Settings fields."""
    opened: list[AnyreachClient] = []

    def make(
        *,
        client: AnyreachClient | None = None,
        clock: Callable[[], float] | None = None,
        input_schemas: dict[str, Any] | None = None,
        **fields: Any,
    ) -> MCPServer:
        settings = Settings.model_validate({"sandbox": True, **fields})
        if client is None and settings.read_only:
            transport = httpx2.ASGITransport(app=sandbox.app)
            client = AnyreachClient(
                "http://sandbox.test", sandbox.seed.demo.api_key, transport=transport, read_only=True
            )
            opened.append(client)
        return build_server(settings, client or api, sandbox=True, clock=clock, input_schemas=input_schemas)

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture(params=ERAS)
def era(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def answering(action: str, content: dict[str, Any] | None = None) -> Callable[..., Any]:
    """An elicitation callback that records the questions it gets and answers every one with `action`."""
    asked: list[str] = []

    async def callback(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=action, content=content if action == "accept" else None)  # type: ignore[arg-type]

    callback.asked = asked  # type: ignore[attr-defined]
    return callback


def connect(server: MCPServer, era: str, **kwargs: Any) -> Client:
    """A client in the given protocol era, with the response cache off so every read reaches the server."""
    return Client(server, mode=era, cache=None, **kwargs)  # type: ignore[arg-type]
