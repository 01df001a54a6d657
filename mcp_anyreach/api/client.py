"""`AnyreachClient`: one async client of the Anyreach Telephony API, with a namespace per resource."""

from __future__ import annotations

import hashlib
from types import TracebackType
from typing import Self

import anyio
import httpx2

from mcp_anyreach import __version__
from mcp_anyreach.api._http import HTTPCore, LazyTransport, Sleep
from mcp_anyreach.api.errors import display_url
from mcp_anyreach.api.resources import Agents, InboundRouting, ManagedAccounts, PhoneNumbers, Trunks

__all__ = ["AnyreachClient"]


class AnyreachClient:
    """Typed async access to phone numbers, trunks, number purchase, inbound routing and agents.

    The transport is a constructor argument, so tests and the embedded sandbox pass
    `httpx2.ASGITransport(app)` or `httpx2.MockTransport(handler)` instead of patching. A `pat_`
    token needs `org_id` (sent as `X-Anyreach-Org`). With `read_only=True` every write raises
    `ReadOnlyError` before anything is sent.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        org_id: str | None = None,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        read_only: bool = False,
        sleep: Sleep = anyio.sleep,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 8.0,
    ) -> None:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": f"mcp-anyreach/{__version__}",
        }
        if org_id is not None:
            headers["X-Anyreach-Org"] = org_id
        self.base_url = base_url.rstrip("/")
        self.org_id = org_id
        self._identity = hashlib.sha256(f"{self.base_url}|{org_id}|{token}".encode()).hexdigest()[:24]
        # Not the credential: replicas of one organization holding different keys (during a rotation, an ak_
        # and a pat_) must share one purchase budget. Without an organization id only the credential is known.
        where = display_url(self.base_url)
        self._organization = hashlib.sha256(f"{where}|{org_id}".encode()).hexdigest()[:24] if org_id else None
        self._http = httpx2.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            transport=transport or LazyTransport(),
            timeout=httpx2.Timeout(timeout),
            follow_redirects=False,
        )
        self._core = HTTPCore(
            self._http,
            token=token,
            max_retries=max_retries,
            read_only=read_only,
            sleep=sleep,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
        )
        self.phone_numbers = PhoneNumbers(self._core)
        self.managed_accounts = ManagedAccounts(self._core)
        self.trunks = Trunks(self._core)
        self.inbound_routing = InboundRouting(self._core)
        self.agents = Agents(self._core)

    @property
    def identity(self) -> str:
        """Which account this client acts for, as a fingerprint safe to show (it reveals no credential)."""
        return self._identity

    @property
    def organization(self) -> str:
        """Which organization this client acts for (base URL and organization id) as a fingerprint: the key of
        everything kept per organization. Without an organization id (an ak_ key alone), `identity`."""
        return self._organization or self._identity

    @property
    def read_only(self) -> bool:
        return self._core.read_only

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, traceback)

    def __repr__(self) -> str:
        return (
            f"AnyreachClient(base_url={display_url(self.base_url)!r}, org_id={self.org_id!r}, "
            f"read_only={self.read_only}, token=[redacted])"
        )
