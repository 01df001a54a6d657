"""create_app: the FastAPI application over a SandboxStore; domain errors become HTTP here, once."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_anyreach import __version__
from mcp_anyreach.sandbox.behaviour import Behaviour, BehaviourMiddleware
from mcp_anyreach.sandbox.errors import Invalid, SandboxError, Unauthorized
from mcp_anyreach.sandbox.faults import FaultInjector, Faults
from mcp_anyreach.sandbox.routes import agents, managed_accounts, phone_numbers, routing, trunks
from mcp_anyreach.sandbox.store import SandboxStore

_REDACTED = "**********"


class RequestCounter:
    """Counts HTTP methods served, so a test can prove a read-only client sent only GETs."""

    def __init__(self, app: ASGIApp, counts: Counter[str]) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.counts[scope["method"]] += 1
        await self.app(scope, receive, send)


def _redact(value: object) -> object:
    """Validation errors echo their input; a password must never come back."""
    if isinstance(value, dict):
        mapping = cast(dict[str, object], value)
        return {key: _REDACTED if key == "auth_password" else _redact(item) for key, item in mapping.items()}
    if isinstance(value, list):
        return [_redact(item) for item in cast(list[object], value)]
    return value


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SandboxError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    if isinstance(exc, Invalid):
        error = {"type": "value_error", "loc": ["body", *exc.field], "msg": exc.detail, "input": None}
        return JSONResponse({"detail": [error]}, status_code=exc.status)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = cast(list[dict[str, Any]], _redact(jsonable_encoder(exc.errors())))
    for error in errors:
        if error.get("loc", [])[-1:] == ["auth_password"]:
            error["input"] = _REDACTED
    return JSONResponse({"detail": errors}, status_code=422)


class RefuseInvalidText:
    """JSON may spell a lone UTF-16 surrogate (`"\\ud800"`); stored, it would break every later read of it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if not _valid_unicode(body):
            error = {"type": "value_error", "loc": ["body"], "msg": "Text must be valid Unicode (no lone surrogates)"}
            await JSONResponse({"detail": [error]}, status_code=422)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _valid_unicode(body: bytes) -> bool:
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode()
    except UnicodeError:
        return False
    except ValueError:
        return True  # not JSON at all: the route's own validation answers that
    return True


def create_app(
    store: SandboxStore,
    *,
    number_limit: int = 100,
    faults: Faults | None = None,
    behaviour: Behaviour | None = None,
) -> FastAPI:
    """The sandbox API over `store`. With `faults`, requests fail as configured until `faults.enabled` is False;
    `behaviour` picks how it answers where the vendor's documentation is silent."""
    app = FastAPI(
        title="Anyreach Telephony API (sandbox)",
        version=__version__,
        description="An Anyreach-compatible telephony API on local SQLite, for development and tests.",
        # It stands in for a remote API whose requests the client already traces, without their arguments;
        # FastAPI's own spans and logs would record paths and bodies (phone numbers, SIP passwords).
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.store = store
    app.state.number_limit = number_limit
    app.state.request_counts = Counter[str]()
    app.state.faults = faults or Faults(enabled=False)
    app.state.behaviour = behaviour or Behaviour()
    # Innermost: a fault (a drop after the write, say) strikes the answer as the client would receive it.
    app.add_middleware(BehaviourMiddleware)
    # Added before the counter, so it runs inside it: a request that fails on purpose still reached the sandbox.
    app.add_middleware(FaultInjector, faults=app.state.faults)
    app.add_middleware(RefuseInvalidText)
    app.add_middleware(RequestCounter, counts=app.state.request_counts)
    app.add_exception_handler(SandboxError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for module in (phone_numbers, managed_accounts, trunks, routing, agents):
        app.include_router(module.routes, prefix="/core")
    return app
