"""A connection failure names the API address and its cause, so a caller can say whether retrying helps.

Real sockets on loopback: a port that refuses, a `.invalid` host (never resolvable, RFC 6761), a listener that
answers TLS with plain text, and one that never answers.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
from anyio.abc import SocketAttribute, SocketStream

from mcp_anyreach.api import AnyreachClient, APIConnectionError, APITimeoutError

from .conftest import TOKEN


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused, and no one else can take it."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


@asynccontextmanager
async def listener(serve: Callable[[SocketStream], object]) -> AsyncIterator[int]:
    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as tcp, anyio.create_task_group() as group:
        group.start_soon(tcp.serve, serve)
        yield tcp.extra(SocketAttribute.local_port)  # noqa: S610 (anyio's typed attributes, not Django)
        group.cancel_scope.cancel()


async def plain_http(stream: SocketStream) -> None:
    async with stream:
        await stream.receive()
        await stream.send(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]")


async def silent(stream: SocketStream) -> None:
    async with stream:
        await anyio.sleep_forever()


async def failure_of(
    base_url: str, *, client_timeout: float = 30.0, max_retries: int = 2
) -> tuple[APIConnectionError, list[float]]:
    """The error a list call ends with, and the pauses the client took between attempts."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with AnyreachClient(base_url, TOKEN, sleep=sleep, timeout=client_timeout, max_retries=max_retries) as client:
        with anyio.fail_after(20), pytest.raises(APIConnectionError) as caught:
            await client.agents.list()
    return caught.value, slept


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])  # localhost: one attempt per address family
async def test_a_refused_connection_names_the_address_and_is_not_retried(refusing_port: int, host: str) -> None:
    base_url = f"http://{host}:{refusing_port}"
    error, slept = await failure_of(base_url)
    assert (error.cause, error.base_url, error.retry_may_help) == ("refused", base_url, False)
    assert f"the Anyreach API at {base_url} refused the connection" in str(error)
    assert (error.method, error.path) == ("GET", "/core/agents")
    assert slept == []


async def test_an_unresolvable_host_is_a_dns_failure() -> None:
    error, slept = await failure_of("https://api.anyreach.invalid")
    assert (error.cause, error.base_url, error.retry_may_help) == ("dns", "https://api.anyreach.invalid", False)
    assert "does not resolve" in str(error)
    assert slept == []


async def test_a_failed_tls_handshake_is_a_tls_failure() -> None:
    async with listener(plain_http) as port:
        error, slept = await failure_of(f"https://127.0.0.1:{port}")
    assert (error.cause, error.retry_may_help) == ("tls", False)
    assert f"TLS handshake with the Anyreach API at https://127.0.0.1:{port} failed" in str(error)
    assert slept == []


async def test_a_silent_api_times_out_and_retrying_may_help() -> None:
    async with listener(silent) as port:
        error, slept = await failure_of(f"http://127.0.0.1:{port}", client_timeout=0.2, max_retries=1)
    assert isinstance(error, APITimeoutError)
    assert (error.cause, error.retry_may_help) == ("timeout", True)
    assert f"timed out waiting for the Anyreach API at http://127.0.0.1:{port}" in str(error)
    assert len(slept) == 1


async def test_credentials_in_the_base_url_never_appear_in_the_error(refusing_port: int) -> None:
    error, _ = await failure_of(f"http://anyreach:LEAKCANARY@127.0.0.1:{refusing_port}/v1?key=LEAKCANARY")
    assert error.base_url == f"http://127.0.0.1:{refusing_port}/v1"
    assert "LEAKCANARY" not in f"{error} {error!r} {error.base_url} {error.reason}"


async def test_a_connection_dropped_mid_answer_is_another_cause_and_retrying_may_help() -> None:
    def drop(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.RemoteProtocolError("peer closed connection without sending a response", request=request)

    async with AnyreachClient(
        "https://api.anyreach.test", TOKEN, transport=httpx2.MockTransport(drop), max_retries=0
    ) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.trunks.list()
    assert (caught.value.cause, caught.value.retry_may_help) == ("other", True)
    assert "got no usable answer from the Anyreach API at https://api.anyreach.test" in str(caught.value)
