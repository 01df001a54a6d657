from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal, Unpack

from pydantic import SecretStr

from mcp_anyreach.api._http import HTTPCore, parse_model, parse_record, path_segment
from mcp_anyreach.api.errors import PasswordRequiredError, ReadOnlyError
from mcp_anyreach.api.filters import Timestamps, check_filters, query
from mcp_anyreach.api.models import (
    UNSET,
    InboundConfig,
    OutboundConfig,
    Page,
    Trunk,
    Unset,
    to_request_json,
)
from mcp_anyreach.api.pagination import fetch_page, iterate_pages

PATH = "/core/trunks"
Side = Literal["inbound", "outbound"]
SIDES: tuple[Side, ...] = ("inbound", "outbound")
Config = InboundConfig | OutboundConfig


class TrunkFilters(Timestamps, total=False):
    """What `Trunks.list` and `Trunks.iter` filter on."""

    name: str | None


def trunk_path(trunk_id: str) -> str:
    return f"{PATH}/{path_segment(trunk_id)}"


def needs_password(config: Config | None) -> bool:
    """Whether sending this config whole needs a password it does not carry (the API never returns one)."""
    return config is not None and bool(config.auth_username) and config.auth_password is None


def complete_trunk(
    current: Trunk,
    *,
    name: str | None = None,
    inbound_config: Config | Unset | None = UNSET,
    outbound_config: Config | Unset | None = UNSET,
    passwords: Mapping[Side, SecretStr] | None = None,
) -> dict[str, Any]:
    """The whole trunk as a PUT should carry it: `current` with the changes applied.

    Whether the service's PUT replaces or merges is undocumented; a complete body ends in the same state
    under both. A config given as None is removed; UNSET keeps the current one. A config that keeps
    authentication needs its password, from the config itself or from `passwords`, since the API never
    returns one: PasswordRequiredError names the sides without.
    """
    changes: dict[Side, Config | Unset | None] = {"inbound": inbound_config, "outbound": outbound_config}
    kept: dict[Side, Config | None] = {"inbound": current.inbound_config, "outbound": current.outbound_config}
    body: dict[str, Any] = {"name": current.name if name is None else name}
    missing: list[Side] = []
    for side in SIDES:
        change = changes[side]
        config = kept[side] if isinstance(change, Unset) else change
        password = (passwords or {}).get(side)
        if password is not None and (config is None or not config.auth_username):
            raise ValueError(f"a password was given for the {side} config, which has no auth_username")
        if config is not None and password is not None and config.auth_password is None:
            config = config.model_copy(update={"auth_password": password})
        if needs_password(config):
            missing.append(side)
        body[f"{side}_config"] = None if config is None else to_request_json(config, whole=True)
    if missing:
        raise PasswordRequiredError(current.id, missing)
    return body


class Trunks:
    """SIP trunks: `/core/trunks`. Managed (Twilio) trunks are read-only through the API."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    async def list(
        self, *, limit: int | None = None, cursor: str | None = None, **filters: Unpack[TrunkFilters]
    ) -> Page[Trunk]:
        """One page of trunks, oldest first."""
        params = query(TrunkFilters, filters, "Trunks.list", limit=limit, cursor=cursor)
        return await fetch_page(self._core, PATH, params, Trunk)

    def iter(self, *, page_size: int = 100, **filters: Unpack[TrunkFilters]) -> AsyncIterator[Trunk]:
        """Every matching trunk, fetched lazily page by page."""
        check_filters(TrunkFilters, filters, "Trunks.iter")
        return iterate_pages(lambda cursor: self.list(limit=page_size, cursor=cursor, **filters), "trunks")

    async def get(self, trunk_id: str) -> Trunk:
        response = await self._core.request("GET", trunk_path(trunk_id))
        return parse_record(response, Trunk, "id", trunk_id)

    async def create(
        self,
        *,
        name: str,
        inbound_config: InboundConfig | None = None,
        outbound_config: OutboundConfig | None = None,
    ) -> Trunk:
        """Create a customer-owned (BYOC) trunk in the token's organization."""
        body: dict[str, Any] = {"name": name}
        if inbound_config is not None:
            body["inbound_config"] = to_request_json(inbound_config)
        if outbound_config is not None:
            body["outbound_config"] = to_request_json(outbound_config)
        response = await self._core.request("POST", PATH, json=body)
        return parse_model(response, Trunk)

    async def update(
        self,
        trunk_id: str,
        *,
        name: str | None = None,
        inbound_config: InboundConfig | Unset | None = UNSET,
        outbound_config: OutboundConfig | Unset | None = UNSET,
        passwords: Mapping[Side, SecretStr] | None = None,
    ) -> Trunk:
        """Change a customer-owned trunk: read it, then PUT it whole (see `complete_trunk`).

        A config given as None is removed, UNSET keeps it. `passwords` re-sends the passwords of configs
        that keep authentication; without them PasswordRequiredError is raised and nothing is written.
        """
        if self._core.read_only:
            raise ReadOnlyError("PUT", trunk_path(trunk_id))
        current = await self.get(trunk_id)
        body = complete_trunk(
            current, name=name, inbound_config=inbound_config, outbound_config=outbound_config, passwords=passwords
        )
        response = await self._core.request("PUT", trunk_path(trunk_id), json=body)
        return parse_model(response, Trunk)

    async def delete(self, trunk_id: str) -> None:
        await self._core.request("DELETE", trunk_path(trunk_id))
