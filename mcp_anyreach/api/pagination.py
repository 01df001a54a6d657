"""Reading lists whichever way the service pages them, and never taking a truncated list for a whole one.

The documentation shows a bare JSON array and says nothing of where the next page's cursor goes, so any
of these is accepted: the `X-Next-Cursor` header, an RFC 8288 `Link: <…>; rel="next"` header, or an
envelope `{"data": [...], "next_cursor" | "cursor" | "next": ...}` (`next` may be the next page's URL).
A full page without any of them may not be the last: `Page.possibly_incomplete` says so, until the service
has once shown a cursor this client recognises (from then on, no cursor means the last page).

Walking every page stops with `IncompleteListError` when a cursor comes back (A -> B -> A would otherwise
never end) or after `MAX_PAGES` pages.

`limit` is documented nowhere; when the service refuses one, the request is repeated once at the maximum
its error names (or the documented default), and that maximum caps every later request of the client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast

import httpx2
from pydantic import BaseModel

from mcp_anyreach.api._http import HTTPCore, Params, as_list, parse_json, unexpected_response, validate
from mcp_anyreach.api.errors import APIStatusError, BadRequestError, IncompleteListError, UnprocessableEntityError
from mcp_anyreach.api.models import Page

__all__ = ["fetch_page", "get_with_limit", "iterate_pages", "pages", "parse_page"]

logger = logging.getLogger("mcp_anyreach.api")
M = TypeVar("M", bound=BaseModel)

ROW_KEYS = ("data", "items", "results")
CURSOR_KEYS = ("next_cursor", "cursor", "next")
MAX_PAGES = 2_000  # 100,000 items at the service's default page size
DEFAULT_LIMIT = 50  # what the service returns when no limit is sent, and the fallback when it names no maximum
_MAXIMUM = re.compile(
    r"(?:less than or equal to|at most|no more than|maximum(?: is| of)?|max(?:imum)?\s*[:=]?|<=|≤|between\s+\d+\s+and)"
    r"\s*(\d+)",
    re.IGNORECASE,
)


async def fetch_page(core: HTTPCore, path: str, params: Params, model: type[M]) -> Page[M]:
    """GET one page of a list (see `get_with_limit`) and read it (see `parse_page`)."""
    response, sent_limit = await get_with_limit(core, path, params)
    page = parse_page(response, model, limit=sent_limit, cursor_seen=core.cursor_seen)
    core.cursor_seen = core.cursor_seen or page.next_cursor is not None
    return page


def parse_page(response: httpx2.Response, model: type[M], *, limit: int | None, cursor_seen: bool = False) -> Page[M]:
    """One page; `limit` is the page size asked for (None: the service's default); `cursor_seen` says that
    the service has shown a recognisable cursor before, so a page without one is the last."""
    payload = parse_json(response)
    rows = as_list(payload, *ROW_KEYS)
    if rows is None:
        raise unexpected_response(response, "the body is neither a list nor a {data: [...]} envelope")
    envelope = cast(dict[str, object], payload) if isinstance(payload, dict) else {}
    cursor = _body_cursor(envelope) or response.headers.get("x-next-cursor") or _link_cursor(response)
    items = [validate(response, model, row) for row in rows]
    has_more = envelope.get("has_more")
    full = len(items) >= (limit or DEFAULT_LIMIT)
    incomplete = not cursor and (has_more is True or (full and has_more is None and not cursor_seen))
    return Page[M](items=items, next_cursor=cursor or None, possibly_incomplete=incomplete)


def _body_cursor(envelope: Mapping[str, object]) -> str | None:
    for key in CURSOR_KEYS:
        value = envelope.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value:
            return _cursor_in_url(value) if key == "next" and _looks_like_url(value) else value
    return None


def _link_cursor(response: httpx2.Response) -> str | None:
    link = response.links.get("next")
    url = link.get("url") if link else None
    return _cursor_in_url(url) if url else None


def _looks_like_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "/")) or "?" in value


def _cursor_in_url(url: str) -> str | None:
    """The `cursor` query parameter of a next-page URL; None when it has none (the page may be incomplete)."""
    try:
        return httpx2.URL(url).params.get("cursor") or None
    except (httpx2.InvalidURL, ValueError):
        return None


async def get_with_limit(core: HTTPCore, path: str, params: Params) -> tuple[httpx2.Response, int | None]:
    """GET a list with its `limit` capped to what the service accepts; answers the response and the limit sent."""
    query: dict[str, Any] = dict(params)
    limit = query.get("limit")
    if isinstance(limit, int) and core.max_limit is not None and limit > core.max_limit:
        limit = query["limit"] = core.max_limit
    try:
        return await core.request("GET", path, params=query), cast(int | None, limit)
    except (BadRequestError, UnprocessableEntityError) as refusal:
        maximum = _refused_limit_maximum(refusal, limit)
        if maximum is None:
            raise
    logger.info("the Anyreach API refused limit=%s on %s; using its maximum, %d", limit, path, maximum)
    core.max_limit = maximum
    query["limit"] = maximum
    return await core.request("GET", path, params=query), maximum


def _refused_limit_maximum(refusal: APIStatusError, limit: object) -> int | None:
    """The largest limit the refusal allows, if it is about `limit` and allows less than was sent."""
    if not isinstance(limit, int) or "limit" not in f"{refusal.detail} {refusal.body}".lower():
        return None
    maximum = _stated_maximum(refusal.body) or _maximum_in_text(refusal.detail) or DEFAULT_LIMIT
    return maximum if 1 <= maximum < limit else None


def _stated_maximum(body: object) -> int | None:
    """FastAPI-style 422 items carry the bound in `ctx`: {"loc": ["query", "limit"], "ctx": {"le": 50}}."""
    detail = cast(dict[str, object], body).get("detail") if isinstance(body, dict) else None
    for item in cast(list[object], detail) if isinstance(detail, list) else []:
        entry = cast(dict[str, object], item) if isinstance(item, dict) else {}
        context = entry.get("ctx")
        if "limit" in str(entry.get("loc")) and isinstance(context, dict):
            bound = cast(dict[str, object], context).get("le")
            if isinstance(bound, int):
                return bound
    return None


def _maximum_in_text(text: str) -> int | None:
    found = _MAXIMUM.search(text)
    return int(found.group(1)) if found else None


async def iterate_pages(
    fetch: Callable[[str | None], Awaitable[Page[M]]], what: str = "items", *, max_pages: int = MAX_PAGES
) -> AsyncIterator[M]:
    """Yield every item, fetching the next page only when the previous one is used up."""
    async for page in pages(fetch, what, max_pages=max_pages):
        for item in page.items:
            yield item


async def pages(
    fetch: Callable[[str | None], Awaitable[Page[M]]], what: str = "items", *, max_pages: int = MAX_PAGES
) -> AsyncIterator[Page[M]]:
    """Yield every page in turn; the next one is requested only after the previous one was used.

    A last page that may be incomplete is yielded like any other (its flag says so) and logged. A cursor
    seen before in this listing, or a page beyond `max_pages`, raises IncompleteListError naming `what`.
    """
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        page = await fetch(cursor)
        if page.possibly_incomplete:
            logger.warning(
                "a full page of %d rows came without a next-page cursor this client recognises; "
                "the list may be incomplete",
                len(page.items),
            )
        yield page
        if page.next_cursor is None:
            return
        if page.next_cursor in seen:
            raise IncompleteListError(
                f"the Anyreach API gave the cursor {page.next_cursor!r} twice while listing {what} (after "
                f"{len(seen) + 1} pages): its pages go round in a circle, so the list of {what} is incomplete"
            )
        seen.add(cursor := page.next_cursor)
    raise IncompleteListError(
        f"the Anyreach API's list of {what} went on past {max_pages:,} pages, so it was stopped there and is incomplete"
    )
