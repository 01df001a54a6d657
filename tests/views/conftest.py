"""The real server on the in-process sandbox, a client that speaks MCP Apps, and one chromium per module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.server import MCPServer
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from tests.server.conftest import sandbox_api
from tests.views.browser import chromium


def apps_client(server: MCPServer, era: str = "auto", **kwargs: Any) -> Client:
    """A client that tells the server it renders MCP Apps views, as Claude, ChatGPT or VS Code do."""
    host = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
    return Client(server, mode=era, cache=None, extensions=[host], **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def sandbox() -> Sandbox:
    return open_sandbox(":memory:")


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[AnyreachClient]:
    async with sandbox_api(sandbox) as client:
        yield client


@pytest.fixture
def server(api: AnyreachClient) -> MCPServer:
    return build_server(Settings(sandbox=True), api, sandbox=True)


@pytest.fixture(scope="module")
async def browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    async with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context
