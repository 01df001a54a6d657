"""Chooses the API the server talks to: the real service with a token, else the embedded sandbox."""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncGenerator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial

import anyio
import httpx2

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.api.errors import display_url
from mcp_anyreach.server.gate.audit_log import organization_of
from mcp_anyreach.settings import UNNAMED, Organization, Settings, default_sandbox_db

logger = logging.getLogger("mcp_anyreach.server")
SANDBOX_BASE_URL = "http://sandbox.invalid"
START_UP_SECONDS = 2.0
_embedded: weakref.WeakKeyDictionary[AnyreachClient, EmbeddedSandbox] = weakref.WeakKeyDictionary()


def connect(settings: Settings) -> AnyreachClient:
    """An API client for these settings, which name at most one organization (`connect_all` serves several)."""
    if len(settings.organizations) > 1:
        raise ValueError("ANYREACH_ORG_ID names several organizations here; connect_all gives one client for each")
    sandbox = EmbeddedSandbox.of(settings)
    if sandbox is not None and settings.organization_id:
        # An id kept from a real set-up would otherwise be refused on every call: the sandbox has its own.
        logger.warning(
            "ANYREACH_ORG_ID=%s is ignored on the embedded sandbox: with one organization it acts in its demo "
            "organization (name both demo organizations' ids to serve both)",
            settings.organization_id,
        )
    return _connect(settings, None if sandbox else settings.organization_id, sandbox)


@asynccontextmanager
async def connect_all(settings: Settings) -> AsyncGenerator[dict[Organization, AnyreachClient]]:
    """One open API client per organization the settings name (one shared credential, each with its own
    X-Anyreach-Org); with none named, the credential's own organization under the name "default"."""
    organizations = settings.organizations
    if len(organizations) <= 1:
        async with connect(settings) as client:
            only = organizations[0] if organizations else UNNAMED
            yield {only: client}
        return
    sandbox = EmbeddedSandbox.of(settings)
    async with AsyncExitStack() as stack:
        yield {
            organization: await stack.enter_async_context(_connect(settings, organization.id, sandbox))
            for organization in organizations
        }


def _connect(settings: Settings, org_id: str | None, sandbox: EmbeddedSandbox | None) -> AnyreachClient:
    mode = "read-only" if settings.read_only else "read-write"
    if sandbox is None:
        assert settings.token is not None
        logger.info(
            "Anyreach API at %s (%s), organization %s", display_url(settings.base_url), mode, org_id or "of the key"
        )
        return AnyreachClient(
            settings.base_url, settings.token.get_secret_value(), org_id, read_only=settings.read_only
        )
    # The sandbox's own transport signs every request: as its demo organization, or as its demo user in the
    # organization X-Anyreach-Org names. The placeholder token names the database, so that the client's identity
    # tells sandboxes apart.
    client = AnyreachClient(
        SANDBOX_BASE_URL, f"sandbox:{sandbox.db}", org_id, transport=sandbox, read_only=settings.read_only
    )
    _embedded[client] = sandbox
    return client


def audit_organization(client: AnyreachClient) -> Callable[[], str]:
    """What the audit log names as the organization `client` acts in: on the embedded sandbox its demo
    organization's id (which the client, signed by the transport, does not know), else organization_of."""
    sandbox = _embedded.get(client)
    if sandbox is None or client.org_id:
        return partial(organization_of, client)
    return sandbox.organization_id


@asynccontextmanager
async def unreachable_api_logged(settings: Settings) -> AsyncGenerator[None]:
    """While the server runs, check once in the background, two seconds after start, whether the real API can be
    reached, and log the base URL and the cause when it cannot. Nothing waits for it: the tools work as soon as
    the API answers."""
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
    # After the host's first requests, not among them: a host waits for start-up on every launch, and this
    # check (its import, a DNS lookup, a connection) only ever adds a warning to the log.
    await anyio.sleep(START_UP_SECONDS)
    from mcp_anyreach.cli.doctor.network import reachability_problem

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
        self.db = db
        self._app: httpx2.ASGITransport | None = None
        self._organization_key = self._user_token = self._organization_id = ""

    @classmethod
    def of(cls, settings: Settings) -> EmbeddedSandbox | None:
        """The embedded sandbox these settings ask for (saying so in the log), or None for the real API."""
        if not settings.uses_sandbox:
            return None
        why = "--sandbox: ignoring ANYREACH_TOKEN" if settings.token else "No ANYREACH_TOKEN"
        db = settings.db or str(default_sandbox_db())
        mode = "read-only" if settings.read_only else "read-write"
        logger.warning("%s: serving the embedded sandbox (demo data, nothing real, %s), database %s", why, mode, db)
        return cls(db)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self._open()
        # A request naming an organization acts as the demo user, a member of both demo organizations: the
        # sandbox refuses it for any other, as the API would.
        token = self._user_token if "X-Anyreach-Org" in request.headers else self._organization_key
        request.headers["Authorization"] = f"Bearer {token}"
        assert self._app is not None
        return await self._app.handle_async_request(request)

    def organization_id(self) -> str:
        """The demo organization every request acts in (opening the sandbox: a write is about to need it)."""
        self._open()
        return self._organization_id

    def _open(self) -> None:
        if self._app is None:
            from mcp_anyreach.sandbox import open_sandbox

            sandbox = open_sandbox(self.db)
            self._organization_key, self._user_token = sandbox.seed.demo.api_key, sandbox.seed.user.pat
            self._organization_id = sandbox.seed.demo.org_id
            self._app = httpx2.ASGITransport(app=sandbox.app)
