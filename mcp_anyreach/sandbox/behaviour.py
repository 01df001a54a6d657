"""Where the vendor's documentation is silent, the sandbox can answer each way the real service might.

A client is then tested against every alternative, not only against the sandbox's own choice:

- ``pagination``: ``header`` (the default: ``X-Next-Cursor``), ``link`` (an RFC 8288 ``Link: <…>;
  rel="next"`` header), ``next_cursor`` / ``cursor`` / ``next`` (a ``{"data": [...], KEY: ...}``
  envelope; ``next`` holds the next page's URL), or ``none`` (no cursor at all: lists look complete);
- ``put``: ``merge`` (the default: fields left out stay) or ``replace`` (the body is the whole object:
  left out means removed, and a config without its password is refused, since none is kept);
- ``purchase_body``: ``row`` (the default: 201 with the PhoneNumber), ``empty`` (201 without a body)
  or ``status`` (202 with ``{"status": "accepted"}``);
- ``max_limit``: the largest ``limit`` a list or a search accepts (default 100); a larger one is
  refused with a 422 naming the maximum.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Annotated, Any, Literal, cast

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import URL, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_anyreach.sandbox.spec import parse_spec

Pagination = Literal["header", "link", "next_cursor", "cursor", "next", "none"]
LIST_PATHS = frozenset({"/core/phone-numbers", "/core/trunks"})
PURCHASE_SUFFIX = "/purchase-number"
Headers = list[tuple[bytes, bytes]]


class Behaviour(BaseModel):
    """How the sandbox answers where the documentation leaves the choice open (defaults: the contract's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pagination: Pagination = "header"
    put: Literal["merge", "replace"] = "merge"
    purchase_body: Literal["row", "empty", "status"] = "row"
    max_limit: int = Field(default=100, ge=1, le=100)

    @classmethod
    def parse(cls, spec: str) -> Behaviour:
        """``"pagination=link,put=replace,purchase_body=empty,max_limit=50"``; ValueError names what is wrong."""
        try:
            return cls.model_validate(parse_spec(spec, cls.model_fields))
        except ValidationError as exc:
            problems = "; ".join(f"{error['loc'][0]}: {error['msg']}" for error in exc.errors())
            raise ValueError(problems) from None

    def __str__(self) -> str:
        return ",".join(f"{name}={value}" for name, value in self.model_dump().items())


def behaviour_argument(spec: str) -> Behaviour:
    """`Behaviour.parse` as an argparse ``type=``: a wrong spec becomes a usage error naming the problem."""
    import argparse

    try:
        return Behaviour.parse(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def behaviour_of(request: Request) -> Behaviour:
    return cast(Behaviour, request.app.state.behaviour)


SandboxBehaviour = Annotated[Behaviour, Depends(behaviour_of)]


class BehaviourMiddleware:
    """Re-shapes answers as the app's `state.behaviour` says (read per request, so a test can switch it):
    the limit refusal, the pagination style, the purchase body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/core/"):
            await self.app(scope, receive, send)
            return
        behaviour = cast(Behaviour, scope["app"].state.behaviour)
        url = URL(scope=scope)
        method, path = scope["method"], str(scope["path"])
        if method == "GET" and (refusal := _refused_limit(url, behaviour.max_limit)) is not None:
            await _send(send, 422, [(b"content-type", b"application/json")], refusal)
        elif method == "GET" and path in LIST_PATHS and behaviour.pagination != "header":
            paginate = functools.partial(_paginate, url, behaviour.pagination)
            await self._reshaped(scope, receive, send, paginate)
        elif method == "POST" and path.endswith(PURCHASE_SUFFIX) and behaviour.purchase_body != "row":
            await self._reshaped(scope, receive, send, functools.partial(_purchase_answer, behaviour.purchase_body))
        else:
            await self.app(scope, receive, send)

    async def _reshaped(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        reshape: Callable[[int, Headers, bytes], tuple[int, Headers, bytes]],
    ) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, hold)
        status, headers, body = int(start["status"]), list(start.get("headers", [])), b"".join(chunks)
        if 200 <= status < 300:
            status, headers, body = reshape(status, headers, body)
        await _send(send, status, headers, body)


def _refused_limit(url: URL, maximum: int) -> bytes | None:
    limit = QueryParams(url.query).get("limit")
    if limit is None or not limit.isdigit() or int(limit) <= maximum:
        return None
    error = {
        "type": "less_than_equal",
        "loc": ["query", "limit"],
        "msg": f"Input should be less than or equal to {maximum}",
        "input": limit,
        "ctx": {"le": maximum},
    }
    return json.dumps({"detail": [error]}).encode()


def _paginate(url: URL, style: Pagination, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    cursor = next((value.decode() for name, value in headers if name.lower() == b"x-next-cursor"), None)
    headers = [(name, value) for name, value in headers if name.lower() != b"x-next-cursor"]
    next_url = None if cursor is None else str(url.include_query_params(cursor=cursor))
    if style == "link" and next_url is not None:
        headers.append((b"link", f'<{next_url}>; rel="next"'.encode()))
    elif style in ("next_cursor", "cursor", "next"):
        rows: Any = json.loads(body)
        body = json.dumps({"data": rows, style: next_url if style == "next" else cursor}).encode()
    return status, headers, body


def _purchase_answer(kind: str, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
    if kind == "empty":
        return 201, [(name, value) for name, value in headers if name.lower() != b"content-type"], b""
    return 202, headers, b'{"status":"accepted"}'


async def _send(send: Send, status: int, headers: Headers, body: bytes) -> None:
    kept = [(name, value) for name, value in headers if name.lower() != b"content-length"]
    kept.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": kept})
    await send({"type": "http.response.body", "body": body})
