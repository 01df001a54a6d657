"""One router per resource; the app mounts them all under /core."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from mcp_anyreach.sandbox.schemas import ListQuery
from mcp_anyreach.sandbox.store import ListFilter


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, object]] = {status: {"model": Problem} for status in (400, 401, 403, 404, 409)}


def router(tag: str) -> APIRouter:
    return APIRouter(tags=[tag], responses=ERRORS)


def list_filter(query: ListQuery) -> ListFilter:
    return ListFilter(
        limit=query.limit,
        cursor=query.cursor,
        created_after=query.created_after,
        created_before=query.created_before,
        updated_after=query.updated_after,
        updated_before=query.updated_before,
    )


def set_next_cursor(response: Response, cursor: str | None) -> None:
    """The next page's cursor travels in a header so the body stays a bare array."""
    if cursor is not None:
        response.headers["X-Next-Cursor"] = cursor
