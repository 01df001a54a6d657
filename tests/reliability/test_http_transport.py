"""The HTTP transports from outside, beyond tests/server/test_transports.py: oversized bodies refused, the SSE
transport's own guards (bearer token, Host, Origin), and 50 concurrent SDK clients reading with zero errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import anyio
import httpx2
import pytest

from bench.http_load import run_load
from tests.server.procs import RunningServer, server_env, spawn, spawn_listening

HTTP_TOKEN = "sse-token-4b1c-0123456789-abcdefghijkl"
OVER_LIMIT = 5 * 1024 * 1024  # the SDK's DEFAULT_MAX_REQUEST_BODY_SIZE is 4 MiB
LOAD_CLIENTS = 50
LOAD_SECONDS = 5.0
TIMEOUT = 60.0
MCP_POST_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@dataclass(frozen=True)
class Servers:
    http: RunningServer
    sse_with_token: RunningServer


@pytest.fixture(scope="module")
async def servers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Servers]:
    logs = tmp_path_factory.mktemp("http")
    async with AsyncExitStack() as stack:
        yield Servers(
            *await spawn_listening(
                stack,
                spawn(logs / "http.log", "--transport", "streamable-http"),
                spawn(logs / "sse.log", "--transport", "sse", env=server_env(MCP_ANYREACH_HTTP_TOKEN=HTTP_TOKEN)),
            )
        )


def oversized_body() -> bytes:
    padding = "x" * OVER_LIMIT
    return b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"padding":"' + padding.encode() + b'"}}}'


async def chunks(body: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def post(url: str, content: bytes | AsyncIterator[bytes], headers: dict[str, str]) -> httpx2.Response:
    with anyio.fail_after(TIMEOUT):
        async with httpx2.AsyncClient(timeout=TIMEOUT) as http:
            return await http.post(url, content=content, headers=headers)


# request bodies over the limit


async def test_a_streamable_http_request_body_over_4_mib_is_refused_with_413(servers: Servers) -> None:
    response = await post(servers.http.url(), oversized_body(), MCP_POST_HEADERS)

    assert response.status_code == 413


async def test_a_streamed_body_without_content_length_over_4_mib_is_refused_with_413(servers: Servers) -> None:
    response = await post(servers.http.url(), chunks(oversized_body()), MCP_POST_HEADERS)

    assert response.status_code == 413


async def test_the_server_still_answers_after_refusing_oversized_bodies(servers: Servers) -> None:
    await post(servers.http.url(), oversized_body(), MCP_POST_HEADERS)
    initialize = (
        b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
        b'"capabilities":{},"clientInfo":{"name":"probe","version":"0"}}}'
    )

    assert (await post(servers.http.url(), initialize, MCP_POST_HEADERS)).status_code == 200


async def test_an_sse_message_body_over_4_mib_is_refused_with_413(servers: Servers) -> None:
    headers = MCP_POST_HEADERS | {"Authorization": f"Bearer {HTTP_TOKEN}"}
    url = servers.sse_with_token.url("/messages/?session_id=0123456789abcdef0123456789abcdef")

    response = await post(url, oversized_body(), headers)

    assert response.status_code == 413


# the SSE transport's guards (streamable HTTP's are in tests/server/test_transports.py)


async def sse_status(server: RunningServer, headers: dict[str, str]) -> int:
    """The status of opening the SSE stream with `headers` (the stream itself is not read)."""
    with anyio.fail_after(TIMEOUT):
        async with (
            httpx2.AsyncClient(timeout=TIMEOUT) as http,
            http.stream("GET", server.url("/sse"), headers={"Accept": "text/event-stream", **headers}) as response,
        ):
            return response.status_code


async def test_the_sse_stream_without_the_bearer_token_gets_401(servers: Servers) -> None:
    assert await sse_status(servers.sse_with_token, {}) == 401
    assert await sse_status(servers.sse_with_token, {"Authorization": "Bearer wrong"}) == 401
    assert await sse_status(servers.sse_with_token, {"Authorization": f"Bearer {HTTP_TOKEN}"}) == 200


async def test_the_sse_stream_with_a_foreign_host_gets_421(servers: Servers) -> None:
    headers = {"Authorization": f"Bearer {HTTP_TOKEN}", "Host": "evil.example"}

    assert await sse_status(servers.sse_with_token, headers) == 421


async def test_the_sse_stream_with_a_foreign_origin_gets_403(servers: Servers) -> None:
    headers = {"Authorization": f"Bearer {HTTP_TOKEN}", "Origin": "http://evil.example"}

    assert await sse_status(servers.sse_with_token, headers) == 403


async def test_an_sse_message_post_without_the_bearer_token_gets_401(servers: Servers) -> None:
    url = servers.sse_with_token.url("/messages/?session_id=0123456789abcdef0123456789abcdef")

    assert (await post(url, b"{}", MCP_POST_HEADERS)).status_code == 401


# load


async def test_fifty_concurrent_sdk_clients_doing_mixed_reads_see_no_error(servers: Servers) -> None:
    with anyio.fail_after(TIMEOUT + LOAD_SECONDS):
        report = await run_load(
            servers.http.url(), clients=LOAD_CLIENTS, duration=LOAD_SECONDS, pid=servers.http.process.pid
        )

    assert report.errors == []
    assert report.requests >= LOAD_CLIENTS, report.summary()
    assert report.rss_kib["end"] < 2 * report.rss_kib["start"], report.summary()
