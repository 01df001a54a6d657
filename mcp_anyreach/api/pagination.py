"""Reading one page of a list: a bare JSON array plus `X-Next-Cursor`, or a `{data, next_cursor}` envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar, cast

import httpx2
from pydantic import BaseModel

from mcp_anyreach.api._http import as_list, parse_json, unexpected_response, validate
from mcp_anyreach.api.errors import AnyreachError
from mcp_anyreach.api.models import Page

__all__ = ["iterate_pages", "pages", "parse_page"]

M = TypeVar("M", bound=BaseModel)


def parse_page(response: httpx2.Response, model: type[M]) -> Page[M]:
    payload = parse_json(response)
    rows = as_list(payload, "data")
    if rows is None:
        raise unexpected_response(response, "the body is neither a list nor a {data: [...]} envelope")
    cursor = response.headers.get("x-next-cursor")
    if isinstance(payload, dict):
        in_body = cast(dict[str, object], payload).get("next_cursor")
        cursor = in_body if isinstance(in_body, str) else cursor
    items = [validate(response, model, row) for row in rows]
    return Page[M](items=items, next_cursor=cursor or None)


async def iterate_pages(fetch: Callable[[str | None], Awaitable[Page[M]]]) -> AsyncIterator[M]:
    """Yield every item, fetching the next page only when the previous one is used up."""
    async for page in pages(fetch):
        for item in page.items:
            yield item


async def pages(fetch: Callable[[str | None], Awaitable[Page[M]]]) -> AsyncIterator[Page[M]]:
    """Yield every page in turn; the next one is requested only after the previous one was used."""
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        yield page
        if page.next_cursor is None:
            return
        if page.next_cursor == cursor:
            raise AnyreachError(f"the API returned cursor {cursor!r} twice; stopping to avoid a loop")
        cursor = page.next_cursor
