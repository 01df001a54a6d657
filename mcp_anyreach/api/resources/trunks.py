from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from mcp_anyreach.api._http import HTTPCore, Params, parse_model, path_segment
from mcp_anyreach.api.models import UNSET, InboundConfig, OutboundConfig, Page, Trunk, Unset, to_request_json
from mcp_anyreach.api.pagination import iterate_pages, parse_page

PATH = "/core/trunks"


def trunk_path(trunk_id: str) -> str:
    return f"{PATH}/{path_segment(trunk_id)}"


def _config_json(config: InboundConfig | OutboundConfig | None) -> dict[str, Any] | None:
    return None if config is None else to_request_json(config)


class Trunks:
    """SIP trunks: `/core/trunks`. Managed (Twilio) trunks are read-only through the API."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    async def list(
        self,
        *,
        name: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        updated_after: datetime | str | None = None,
        updated_before: datetime | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Trunk]:
        params: Params = {
            "name": name,
            "created_after": created_after,
            "created_before": created_before,
            "updated_after": updated_after,
            "updated_before": updated_before,
            "limit": limit,
            "cursor": cursor,
        }
        response = await self._core.request("GET", PATH, params=params)
        return parse_page(response, Trunk)

    def iter(
        self,
        *,
        name: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        updated_after: datetime | str | None = None,
        updated_before: datetime | str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Trunk]:
        async def fetch(cursor: str | None) -> Page[Trunk]:
            return await self.list(
                name=name,
                created_after=created_after,
                created_before=created_before,
                updated_after=updated_after,
                updated_before=updated_before,
                limit=page_size,
                cursor=cursor,
            )

        return iterate_pages(fetch)

    async def get(self, trunk_id: str) -> Trunk:
        response = await self._core.request("GET", trunk_path(trunk_id))
        return parse_model(response, Trunk)

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
    ) -> Trunk:
        """Change the given fields of a customer-owned trunk; a config given as None is removed."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if inbound_config is not UNSET:
            body["inbound_config"] = _config_json(inbound_config)
        if outbound_config is not UNSET:
            body["outbound_config"] = _config_json(outbound_config)
        response = await self._core.request("PUT", trunk_path(trunk_id), json=body)
        return parse_model(response, Trunk)

    async def delete(self, trunk_id: str) -> None:
        await self._core.request("DELETE", trunk_path(trunk_id))
