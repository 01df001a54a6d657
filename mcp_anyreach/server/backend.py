"""Chooses the API the server talks to: the real service with a token, else the embedded sandbox."""

from __future__ import annotations

import logging

import httpx2

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.settings import Settings

logger = logging.getLogger("mcp_anyreach.server")
SANDBOX_BASE_URL = "http://sandbox.invalid"


def connect(settings: Settings) -> AnyreachClient:
    """An API client for these settings."""
    if not settings.uses_sandbox:
        assert settings.token is not None
        return AnyreachClient(
            settings.base_url, settings.token.get_secret_value(), settings.org_id, read_only=settings.read_only
        )
    logger.warning(
        "No ANYREACH_TOKEN: serving the embedded sandbox (demo data, nothing real), database %s",
        settings.db or "in the user data directory",
    )
    # The sandbox's own transport signs every request as its demo organization.
    return AnyreachClient(
        SANDBOX_BASE_URL, "sandbox", transport=EmbeddedSandbox(settings.db), read_only=settings.read_only
    )


class EmbeddedSandbox(httpx2.AsyncBaseTransport):
    """The sandbox app, in-process, opened on the first request.

    FastAPI, SQLite and the demo seed are then paid for only by a session that calls the API, not by
    every start of a server a host launches to list its tools.
    """

    def __init__(self, db: str | None) -> None:
        self._db = db
        self._app: httpx2.ASGITransport | None = None
        self._authorization = ""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._app is None:
            from mcp_anyreach.sandbox import default_db_path, open_sandbox

            sandbox = open_sandbox(self._db or str(default_db_path()))
            self._authorization = f"Bearer {sandbox.seed.demo.api_key}"
            self._app = httpx2.ASGITransport(app=sandbox.app)
        request.headers["Authorization"] = self._authorization
        return await self._app.handle_async_request(request)
