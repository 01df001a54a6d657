from __future__ import annotations

import logging
from typing import cast

import httpx2
from pydantic import ValidationError

from mcp_anyreach.api._http import (
    AMBIGUOUS_STATUSES,
    HTTPCore,
    as_list,
    parse_json,
    path_segment,
    unexpected_response,
    validate,
)
from mcp_anyreach.api.errors import AnyreachError, APIConnectionError, APIStatusError, NotFoundError
from mcp_anyreach.api.models import AvailableNumber, PhoneNumber
from mcp_anyreach.api.pagination import get_with_limit
from mcp_anyreach.api.resources.phone_numbers import PhoneNumbers
from mcp_anyreach.api.resources.trunks import Trunks

logger = logging.getLogger("mcp_anyreach.api")


def _row_in(response: httpx2.Response) -> PhoneNumber | None:
    """The PhoneNumber a purchase answered with, bare or under "data"; None for any other body."""
    try:
        payload = cast(object, response.json())
    except ValueError:
        return None
    if isinstance(payload, dict) and isinstance(cast(dict[str, object], payload).get("data"), dict):
        payload = cast(dict[str, object], payload)["data"]
    try:
        return PhoneNumber.model_validate(payload)
    except ValidationError:
        return None


def _is_ambiguous(error: AnyreachError) -> bool:
    """Whether the service may have acted on a request that failed this way."""
    if isinstance(error, APIConnectionError):
        return True
    return isinstance(error, APIStatusError) and error.status_code in AMBIGUOUS_STATUSES


class ManagedAccounts:
    """Buying numbers through a managed (shared Twilio) account."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    async def search_numbers(
        self,
        managed_account_id: str,
        *,
        area_code: str | None = None,
        country_code: str | None = None,
        phone_number_type: str | None = None,
        voice_enabled: bool | None = None,
        sms_enabled: bool | None = None,
        mms_enabled: bool | None = None,
        in_region: str | None = None,
        in_postal_code: str | None = None,
        limit: int | None = None,
    ) -> list[AvailableNumber]:
        """Numbers the account offers for purchase right now."""
        params = {
            "area_code": area_code,
            "country_code": country_code,
            "phone_number_type": phone_number_type,
            "voice_enabled": voice_enabled,
            "sms_enabled": sms_enabled,
            "mms_enabled": mms_enabled,
            "in_region": in_region,
            "in_postal_code": in_postal_code,
            "limit": limit,
        }
        path = f"/core/managed-accounts/{path_segment(managed_account_id)}/search-numbers"
        response, _ = await get_with_limit(self._core, path, params)
        rows = as_list(parse_json(response), "data", "available_phone_numbers")
        if rows is None:
            raise unexpected_response(response, "the body holds no list of available numbers")
        return [validate(response, AvailableNumber, row) for row in rows]

    async def purchase_number(self, managed_account_id: str, *, phone_number: str) -> PhoneNumber:
        """Buy a number; the service creates its managed trunk and directory row.

        Buying spends money, so the POST is never re-sent. When its outcome is unknown (connection
        lost, timeout, 502/503/504) the directory is consulted: a number now on a managed trunk was
        bought and its row is returned; otherwise the original error is raised. A success answered
        without the number's row (an empty or other body) was a purchase too: the row is looked up.
        """
        path = f"/core/managed-accounts/{path_segment(managed_account_id)}/purchase-number"
        try:
            response = await self._core.request("POST", path, json={"phone_number": phone_number})
        except (APIConnectionError, APIStatusError) as error:
            if not _is_ambiguous(error):
                raise
            bought = await self._find_bought(phone_number)
            if bought is None:
                raise
            logger.debug("purchase of %s had an unclear outcome; the directory shows it bought", phone_number)
            return bought
        return _row_in(response) or await self._row_after_purchase(response, phone_number)

    async def _row_after_purchase(self, response: httpx2.Response, phone_number: str) -> PhoneNumber:
        answered = f"the purchase of {phone_number} succeeded (HTTP {response.status_code}) without the number's row"
        try:
            return await PhoneNumbers(self._core).get(phone_number)
        except AnyreachError as lookup_error:
            raise AnyreachError(
                f"{answered}, and the directory does not show it yet ({lookup_error}). It was bought: do not buy "
                "it again; look it up again in a minute"
            ) from lookup_error

    async def _find_bought(self, phone_number: str) -> PhoneNumber | None:
        try:
            row = await PhoneNumbers(self._core).get(phone_number)
            trunk = await Trunks(self._core).get(row.trunk_id)
        except NotFoundError:
            return None
        except AnyreachError as lookup_error:
            logger.debug("could not confirm the purchase of %s: %s", phone_number, lookup_error)
            return None
        # A number already registered on a customer-owned trunk was not bought by this request.
        return row if trunk.managed_account_id else None
