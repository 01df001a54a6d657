"""Fixtures of the API client tests: a recording MockTransport and the embedded sandbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox, open_sandbox

# Recognisable so that any leak into a message, repr or log is caught by a substring check.
TOKEN = "ak_LEAKCANARY_token_5f1d2c"
PASSWORD = "sip-LEAKCANARY-pw-77"
BASE_URL = "https://api.anyreach.test"

Handler = Callable[[httpx2.Request], httpx2.Response]


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, json=payload, headers=headers)


def phone_row(number: str = "+15551230001", trunk_id: str = "trunk-1") -> dict[str, Any]:
    return {
        "phone_number": number,
        "trunk_id": trunk_id,
        "inbound_agent_version_id": None,
        "outbound_agent_version_id": None,
        "outbound_shareable": False,
        "organization_id": "org-1",
        "created_at": "2026-11-07T05:31:56Z",
        "updated_at": "2026-11-07T05:31:56Z",
    }


@dataclass
class Recorder:
    """A MockTransport that answers from a queue of handlers and keeps every request it saw."""

    responders: list[Handler | Exception] = field(default_factory=list[Handler | Exception])
    requests: list[httpx2.Request] = field(default_factory=list[httpx2.Request])
    sleeps: list[float] = field(default_factory=list[float])

    def queue(self, *responders: Handler | Exception | httpx2.Response) -> None:
        for responder in responders:
            if isinstance(responder, httpx2.Response):
                self.responders.append(lambda _request, r=responder: r)
            else:
                self.responders.append(responder)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if not self.responders:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        responder = self.responders.pop(0)
        if isinstance(responder, Exception):
            raise responder
        return responder(request)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)

    def client(self, **kwargs: Any) -> AnyreachClient:
        return AnyreachClient(BASE_URL, TOKEN, transport=httpx2.MockTransport(self.handle), sleep=self.sleep, **kwargs)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def mock_client(recorder: Recorder) -> AsyncIterator[AnyreachClient]:
    async with recorder.client() as client:
        yield client


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sb = open_sandbox(":memory:")
    yield sb
    sb.store.close()


@pytest.fixture
async def connect(sandbox: Sandbox) -> AsyncIterator[Callable[..., AnyreachClient]]:
    """Build clients on the sandbox's ASGI app; closed when the test ends."""
    opened: list[AnyreachClient] = []

    def build(token: str, org_id: str | None = None, **kwargs: Any) -> AnyreachClient:
        client = AnyreachClient(
            "http://sandbox.test", token, org_id, transport=httpx2.ASGITransport(app=sandbox.app), **kwargs
        )
        opened.append(client)
        return client

    yield build
    for client in opened:
        await client.aclose()
