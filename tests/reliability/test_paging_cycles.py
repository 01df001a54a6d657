"""A poisoned API whose page cursors never end: every listing stops, and what it would mislead is refused.

The sandbox pages correctly, so the poison is a MockTransport in front of it: it passes every request to the
sandbox, except that the phone-number listing always answers with the first page and a cursor of its choosing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.lowlevel
import httpx2
import pytest
from mcp import Client

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.api.pagination import MAX_PAGES
from mcp_anyreach.sandbox import open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from tests.reliability.live import data, texts
from tests.server.conftest import call, connect

LISTING = "/core/phone-numbers"
CIRCLE = {None: "A", "A": "B", "B": "A"}
NextCursor = Callable[[str | None, int], str]


class PoisonedListing:
    """The sandbox behind a transport whose number listing answers `next_cursor(cursor asked, requests so far)`."""

    def __init__(self, next_cursor: NextCursor) -> None:
        self.sandbox = open_sandbox(":memory:")
        self._sandbox = httpx2.ASGITransport(app=self.sandbox.app)
        self._next_cursor = next_cursor
        self._first_page: httpx2.Response | None = None
        self.listings = 0

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "GET" or request.url.path != LISTING:
            return await self._sandbox.handle_async_request(request)
        self.listings += 1
        await anyio.lowlevel.checkpoint()  # as a network would: a hang is then cancelled by the call's time limit
        if self._first_page is None:
            first = httpx2.Request("GET", request.url.copy_remove_param("cursor"), headers=request.headers)
            self._first_page = await self._sandbox.handle_async_request(first)
            await self._first_page.aread()
        headers = {"content-type": "application/json"}
        headers["x-next-cursor"] = self._next_cursor(request.url.params.get("cursor"), self.listings)
        return httpx2.Response(200, headers=headers, content=self._first_page.content)

    @asynccontextmanager
    async def client(self) -> AsyncGenerator[Client]:
        transport = httpx2.MockTransport(self.handle)
        key = self.sandbox.seed.demo.api_key
        async with AnyreachClient("http://sandbox.test", key, transport=transport, max_retries=0) as api:
            server = build_server(Settings.model_validate({"sandbox": True}), api, sandbox=True)
            async with connect(server, "auto") as client:
                yield client


def circle(cursor: str | None, _: int) -> str:
    return CIRCLE[cursor]


def endless(_: str | None, listings: int) -> str:
    return f"page-{listings}"


def unused_number_deletion(poison: PoisonedListing) -> dict[str, Any]:
    return {"operations": [{"op": "delete_numbers", "unused": True}]}


def trunk_move(poison: PoisonedListing) -> dict[str, Any]:
    trunk = poison.sandbox.seed.demo.byoc_trunk_id
    return {"from_trunk_id": trunk, "to_trunk_id": trunk}


def no_arguments(poison: PoisonedListing) -> dict[str, Any]:
    return {}


Arguments = Callable[[PoisonedListing], dict[str, Any]]
BUILT_ON_THE_WHOLE_LIST: list[tuple[str, Arguments]] = [
    ("plan_changes", unused_number_deletion),
    ("move_phone_numbers", trunk_move),
    ("audit_inventory", no_arguments),
]


@pytest.mark.parametrize(("tool", "arguments"), BUILT_ON_THE_WHOLE_LIST, ids=[t for t, _ in BUILT_ON_THE_WHOLE_LIST])
async def test_a_plan_a_preview_or_an_audit_on_cursors_that_go_round_is_refused_saying_why(
    tool: str, arguments: Arguments
) -> None:
    poison = PoisonedListing(circle)
    async with poison.client() as client:
        result = await call(client, tool, arguments(poison))

    assert result.is_error, texts(result)
    assert "go round in a circle" in texts(result)
    assert "nothing was done" in texts(result)
    assert poison.listings <= 3 * 2, "each listing reads A and B once"


async def test_a_listing_that_never_ends_stops_at_the_page_cap_and_the_plan_is_refused() -> None:
    poison = PoisonedListing(endless)
    async with poison.client() as client:
        result = await call(client, "plan_changes", unused_number_deletion(poison))

    assert result.is_error
    assert f"past {MAX_PAGES:,} pages" in texts(result)
    assert poison.listings == MAX_PAGES
    assert MAX_PAGES >= 1_000, "a 100,000-number account at 100 a page must fit"


async def test_a_filtered_number_list_on_cursors_that_go_round_says_it_may_be_incomplete() -> None:
    poison = PoisonedListing(circle)
    async with poison.client() as client:
        listing = data(await call(client, "list_phone_numbers", {"trunk_kind": "byoc", "limit": 50}))

    assert listing["next_cursor"] is None
    assert "may be incomplete" in listing["warning"]
    assert poison.listings == 3


@pytest.mark.parametrize(("tool", "arguments"), [("list_phone_numbers", {}), ("list_trunks", {}), ("list_agents", {})])
async def test_a_full_page_from_an_api_that_never_shows_a_cursor_says_the_list_may_be_incomplete(
    tool: str, arguments: dict[str, Any]
) -> None:
    """A service that pages without any cursor this client recognises: a full page may not be the last."""
    sandbox = open_sandbox(":memory:")
    real = httpx2.ASGITransport(app=sandbox.app)

    async def without_cursors(request: httpx2.Request) -> httpx2.Response:
        response = await real.handle_async_request(request)
        body = await response.aread()
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("x-next-cursor", "content-length")}
        return httpx2.Response(response.status_code, headers=headers, content=body)

    key = sandbox.seed.demo.api_key
    async with AnyreachClient("http://sandbox.test", key, transport=httpx2.MockTransport(without_cursors)) as api:
        server = build_server(Settings.model_validate({"sandbox": True}), api, sandbox=True)
        async with connect(server, "auto") as client:
            listing = data(await call(client, tool, {**arguments, "limit": 2}))

    assert len(listing["items"]) == 2
    assert "there may be more" in str(listing.get("warning") or listing.get("warnings"))
