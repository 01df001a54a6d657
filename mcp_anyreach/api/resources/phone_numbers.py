from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Unpack

from mcp_anyreach.api._http import HTTPCore, parse_model, parse_record, path_segment
from mcp_anyreach.api.filters import Timestamps, check_filters, query
from mcp_anyreach.api.models import Page, PhoneNumber
from mcp_anyreach.api.pagination import fetch_page, iterate_pages

PATH = "/core/phone-numbers"


class PhoneNumberFilters(Timestamps, total=False):
    """What `PhoneNumbers.list` and `PhoneNumbers.iter` filter on; `phone_number` matches a substring."""

    phone_number: str | None
    trunk_id: str | None


def number_path(phone_number: str) -> str:
    return f"{PATH}/{path_segment(phone_number)}"


class PhoneNumbers:
    """The organization's phone-number directory: `/core/phone-numbers`."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    async def list(
        self, *, limit: int | None = None, cursor: str | None = None, **filters: Unpack[PhoneNumberFilters]
    ) -> Page[PhoneNumber]:
        """One page of numbers, oldest first."""
        params = query(PhoneNumberFilters, filters, "PhoneNumbers.list", limit=limit, cursor=cursor)
        return await fetch_page(self._core, PATH, params, PhoneNumber)

    def iter(self, *, page_size: int = 100, **filters: Unpack[PhoneNumberFilters]) -> AsyncIterator[PhoneNumber]:
        """Every matching number, fetched lazily page by page."""
        check_filters(PhoneNumberFilters, filters, "PhoneNumbers.iter")
        return iterate_pages(lambda cursor: self.list(limit=page_size, cursor=cursor, **filters), "phone numbers")

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
