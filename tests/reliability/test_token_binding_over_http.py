"""A confirmation token works only for the caller that saw its preview, on HTTP too.

On HTTP without sign-in, a request on the 2026-07-28 protocol or to a `--stateless` server belongs to no
session, and one shared MCP_ANYREACH_HTTP_TOKEN names nobody: a token minted for it could be redeemed by any
other client of the server, or of its replicas. Such a caller is asked where its client can be, and is
otherwise refused; a legacy session keeps its tokens to itself.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.server import build_server
from mcp_anyreach.server.http.transports import http_app
from mcp_anyreach.settings import Settings
from tests.reliability.live import data, texts
from tests.server.conftest import ACCEPT, answering, api, in_directory, sandbox
from tests.server.loopback import free_port, serving

__all__ = ["api", "sandbox"]  # fixtures shared with tests/server

NUMBER = "+12125550132"
BEARER = "one-bearer-shared-by-every-client-0123456789"
CALL_TIMEOUT = 30.0


@asynccontextmanager
async def http_servers(api: AnyreachClient, tmp_path: Path, count: int, **fields: Any) -> AsyncGenerator[list[str]]:
    """`count` streamable-HTTP servers on loopback, replicas sharing one secret and token store: their URLs."""
    urls: list[str] = []
    async with AsyncExitStack() as stack:
        for _ in range(count):
            port = free_port()
            settings = Settings.model_validate(
                {
                    "sandbox": True,
                    "transport": "streamable-http",
                    "port": port,
                    "confirm_secret": "replicas-share-this-secret-0123456789",
                    "token_store": tmp_path / "used-tokens.db",
                    **fields,
                }
            )
            await stack.enter_async_context(
                serving(http_app(build_server(settings, api, sandbox=True), settings), port)
            )
            urls.append(f"http://127.0.0.1:{port}/mcp")
        yield urls


async def call(url: str, era: str, tool: str, arguments: dict[str, Any], **client: Any) -> CallToolResult:
    """One call from its own client (its own connection and, in the legacy era, its own session)."""
    bearer = client.pop("bearer", None)
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    with anyio.fail_after(CALL_TIMEOUT):
        async with httpx2.AsyncClient(headers=headers, timeout=CALL_TIMEOUT) as http:
            transport = streamable_http_client(url, http_client=http)
            async with Client(transport, mode=era, **client) as mcp:  # type: ignore[arg-type]
                return await mcp.call_tool(tool, arguments)


UNBINDABLE: dict[str, tuple[dict[str, Any], str]] = {
    "2026-07-28 protocol": ({}, "auto"),
    "--stateless, legacy protocol": ({"stateless": True}, "legacy"),
    "--stateless replicas sharing one bearer": ({"stateless": True, "http_token": BEARER}, "auto"),
}


@pytest.mark.parametrize(("fields", "era"), list(UNBINDABLE.values()), ids=list(UNBINDABLE))
async def test_client_b_cannot_redeem_a_token_shown_to_client_a_without_a_session_or_sign_in(
    api: AnyreachClient, tmp_path: Path, fields: dict[str, Any], era: str
) -> None:
    arguments = {"phone_number": NUMBER}
    bearer = {"bearer": fields["http_token"]} if "http_token" in fields else {}
    async with http_servers(api, tmp_path, 2, **fields) as (first, second):
        shown_to_a = await call(first, era, "delete_phone_number", arguments, **bearer)
        shown: dict[str, Any] = shown_to_a.structured_content or {}
        token = shown.get("confirmation_token")
        if token:  # B, another client of the same server or of a replica, tries A's token
            for url in (first, second):
                await call(url, era, "delete_phone_number", arguments | {"confirmation_token": token}, **bearer)

    assert await in_directory(api, NUMBER), "another client redeemed the token"
    assert token is None, "no token is handed out that anyone could redeem"
    assert shown_to_a.is_error
    assert "belongs to no session" in texts(shown_to_a)
    assert "OAuth sign-in" in texts(shown_to_a), "it says what would work"


async def test_an_anonymous_modern_client_that_can_be_asked_is_asked_and_its_yes_is_done(
    api: AnyreachClient, tmp_path: Path
) -> None:
    human = answering("accept", ACCEPT)
    async with http_servers(api, tmp_path, 1) as (url,):
        done = await call(url, "auto", "delete_phone_number", {"phone_number": NUMBER}, elicitation_callback=human)

    assert data(done)["status"] == "done"
    assert not await in_directory(api, NUMBER)


async def test_a_legacy_session_keeps_its_tokens_to_itself(api: AnyreachClient, tmp_path: Path) -> None:
    arguments = {"phone_number": NUMBER}
    async with http_servers(api, tmp_path, 1) as (url,):
        with anyio.fail_after(CALL_TIMEOUT):
            async with Client(url, mode="legacy") as a:
                token = data(await a.call_tool("delete_phone_number", arguments))["confirmation_token"]
                by_b = await call(url, "legacy", "delete_phone_number", arguments | {"confirmation_token": token})
                kept = await in_directory(api, NUMBER)
                by_a = await a.call_tool("delete_phone_number", arguments | {"confirmation_token": token})

    assert by_b.is_error
    assert "another session or caller" in texts(by_b)
    assert kept
    assert data(by_a)["status"] == "done"


async def test_a_plan_shown_to_an_anonymous_modern_client_comes_without_a_token_and_applying_it_says_why(
    api: AnyreachClient, tmp_path: Path
) -> None:
    async with http_servers(api, tmp_path, 1) as (url,):
        plan = data(await call(url, "auto", "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        applied = await call(url, "auto", "apply_changes", {"plan_id": plan["plan_id"]})

    assert plan["steps"], "the plan deletes something"
    assert plan.get("confirmation_token") is None
    assert applied.is_error
    assert "belongs to no session" in texts(applied)
