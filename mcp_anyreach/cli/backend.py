"""Chooses the API the server talks to: the real service with a token, else the embedded sandbox."""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from functools import partial

import anyio
import httpx2

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.api.errors import display_url
from mcp_anyreach.server.gate.audit_log import organization_of
from mcp_anyreach.settings import Settings, default_sandbox_db

logger = logging.getLogger("mcp_anyreach.server")
SANDBOX_BASE_URL = "http://sandbox.invalid"
_embedded: weakref.WeakKeyDictionary[AnyreachClient, EmbeddedSandbox] = weakref.WeakKeyDictionary()


def connect(settings: Settings) -> AnyreachClient:
    """An API client for these settings."""
    mode = "read-only" if settings.read_only else "read-write"
    if not settings.uses_sandbox:
        assert settings.token is not None
        logger.info(
            "Anyreach API at %s (%s), organization %s",
            display_url(settings.base_url),
            mode,
            settings.org_id or "of the key",
        )
        return AnyreachClient(
            settings.base_url, settings.token.get_secret_value(), settings.org_id, read_only=settings.read_only
        )
    why = "--sandbox: ignoring ANYREACH_TOKEN" if settings.token else "No ANYREACH_TOKEN"
    db = settings.db or str(default_sandbox_db())
    logger.warning("%s: serving the embedded sandbox (demo data, nothing real, %s), database %s", why, mode, db)
    # The sandbox's own transport signs every request as its demo organization.
    # The placeholder token names the database, so that the client's identity tells sandboxes apart.
    sandbox = EmbeddedSandbox(db)
    client = AnyreachClient(SANDBOX_BASE_URL, f"sandbox:{db}", transport=sandbox, read_only=settings.read_only)
    _embedded[client] = sandbox
    return client


def audit_organization(client: AnyreachClient) -> Callable[[], str]:
    """What the audit log names as the organization `client` acts in: on the embedded sandbox its demo
    organization's id (which the client, signed by the transport, does not know), else organization_of."""
    sandbox = _embedded.get(client)
    if sandbox is None:
        return partial(organization_of, client)
    return sandbox.organization_id


@asynccontextmanager
async def unreachable_api_logged(settings: Settings) -> AsyncGenerator[None]:
    """While the server runs, check once in the background whether the real API can be reached, and log the
    base URL and the cause when it cannot. Nothing waits for it: the tools work as soon as the API answers."""
    if settings.uses_sandbox:
        yield
        return
    async with anyio.create_task_group() as background:
        background.start_soon(_log_if_unreachable, settings.base_url)
        try:
            yield
        finally:
            background.cancel_scope.cancel()


async def _log_if_unreachable(base_url: str) -> None:
    from mcp_anyreach.cli.doctor import reachability_problem

    problem = await reachability_problem(base_url)
    if problem is not None:
        logger.warning(
            "The Anyreach API at %s cannot be reached (%s); tools fail until it can. "
            "Run `mcp-anyreach doctor` to check the set-up.",
            display_url(base_url),
            problem,
        )


class EmbeddedSandbox(httpx2.AsyncBaseTransport):
    """The sandbox app, in-process, opened on the first request.

    FastAPI, SQLite and the demo seed are then paid for only by a session that calls the API, not by
    every start of a server a host launches to list its tools.
    """

    def __init__(self, db: str) -> None:
        self._db = db
        self._app: httpx2.ASGITransport | None = None
        self._authorization = ""
        self._organization_id = ""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.headers["Authorization"] = self._opened()
        assert self._app is not None
        return await self._app.handle_async_request(request)

    def organization_id(self) -> str:
        """The demo organization every request acts in (opening the sandbox: a write is about to need it)."""
        self._opened()
        return self._organization_id

    def _opened(self) -> str:
        """The demo organization's authorization, once the sandbox is open."""
        if self._app is None:
            from mcp_anyreach.sandbox import open_sandbox

            sandbox = open_sandbox(self._db)
            self._authorization = f"Bearer {sandbox.seed.demo.api_key}"
            self._organization_id = sandbox.seed.demo.org_id
            self._app = httpx2.ASGITransport(app=sandbox.app)
        return self._authorization
