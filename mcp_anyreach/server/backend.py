"""Chooses the API the server talks to: the real service with a token, else the embedded sandbox."""

from __future__ import annotations

import logging

import httpx2

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.settings import Settings

logger = logging.getLogger("mcp_anyreach.server")
SANDBOX_BASE_URL = "http://sandbox.invalid"


def connect(settings: Settings) -> AnyreachClient:
    """An API client for these settings. The sandbox (and FastAPI) is imported only when it is used."""
    if not settings.uses_sandbox:
        assert settings.token is not None
        return AnyreachClient(
            settings.base_url,
            settings.token.get_secret_value(),
            settings.org_id,
            read_only=settings.read_only,
        )
    from mcp_anyreach.sandbox import default_db_path, open_sandbox

    db = settings.db or str(default_db_path())
    sandbox = open_sandbox(db)
    logger.warning("No ANYREACH_TOKEN: serving the embedded sandbox (demo data, nothing real), database %s", db)
    return AnyreachClient(
        SANDBOX_BASE_URL,
        sandbox.seed.demo.api_key,
        transport=httpx2.ASGITransport(app=sandbox.app),
        read_only=settings.read_only,
    )
