from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from mcp_anyreach.api._http import HTTPCore, Params, parse_model, parse_record, path_segment
from mcp_anyreach.api.models import Page, PhoneNumber
from mcp_anyreach.api.pagination import fetch_page, iterate_pages

PATH = "/core/phone-numbers"


def number_path(phone_number: str) -> str:
    return f"{PATH}/{path_segment(phone_number)}"


class PhoneNumbers:
    """The organization's phone-number directory: `/core/phone-numbers`."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    async def list(
        self,
        *,
        phone_number: str | None = None,
        trunk_id: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        updated_after: datetime | str | None = None,
        updated_before: datetime | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[PhoneNumber]:
        """One page of numbers, oldest first; `phone_number` matches a substring."""
        params: Params = {
            "phone_number": phone_number,
            "trunk_id": trunk_id,
            "created_after": created_after,
            "created_before": created_before,
            "updated_after": updated_after,
            "updated_before": updated_before,
            "limit": limit,
            "cursor": cursor,
        }
        return await fetch_page(self._core, PATH, params, PhoneNumber)

    def iter(
        self,
        *,
        phone_number: str | None = None,
        trunk_id: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        updated_after: datetime | str | None = None,
        updated_before: datetime | str | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[PhoneNumber]:
        """Every matching number, fetched lazily page by page."""

        async def fetch(cursor: str | None) -> Page[PhoneNumber]:
            return await self.list(
                phone_number=phone_number,
                trunk_id=trunk_id,
                created_after=created_after,
                created_before=created_before,
                updated_after=updated_after,
                updated_before=updated_before,
                limit=page_size,
                cursor=cursor,
            )

        return iterate_pages(fetch, "phone numbers")

    async def get(self, phone_number: str) -> PhoneNumber:
        response = await self._core.request("GET", number_path(phone_number))
        return parse_record(response, PhoneNumber, "phone_number", phone_number)

    async def create(self, *, phone_number: str, trunk_id: str, outbound_shareable: bool | None = None) -> PhoneNumber:
        """Register a number on a customer-owned (BYOC) trunk."""
        body: dict[str, Any] = {"phone_number": phone_number, "trunk_id": trunk_id}
        if outbound_shareable is not None:
            body["outbound_shareable"] = outbound_shareable
        response = await self._core.request("POST", PATH, json=body)
        return parse_model(response, PhoneNumber)

    async def update(self, phone_number: str, *, outbound_shareable: bool) -> PhoneNumber:
        """Toggle `outbound_shareable`, the only field the API lets a caller change."""
        response = await self._core.request(
            "PATCH", number_path(phone_number), json={"outbound_shareable": outbound_shareable}
        )
        return parse_model(response, PhoneNumber)

    async def delete(self, phone_number: str) -> None:
        await self._core.request("DELETE", number_path(phone_number))
