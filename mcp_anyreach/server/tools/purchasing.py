"""The purchasing toolset: search the managed account's offer and buy numbers from it."""

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, Field

from mcp_anyreach.api import APIStatusError, AvailableNumber
from mcp_anyreach.server.args import ConfirmationToken, PhoneNumberArg
from mcp_anyreach.server.confirm import Preview
from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.services import NUMBERS_URI, TRUNKS_URI, GateOutcome, Services
from mcp_anyreach.server.views import AvailableNumberView, Gated, NumberView, Result


class Offers(Result):
    result: list[AvailableNumberView]


def _digits(value: str) -> str:
    if not value.isdigit() or len(value) > 5:
        raise ValueError("an area code is 1 to 5 digits, e.g. 415 (US) or 20 (GB)")
    return value


def _iso_country(value: str) -> str:
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError("a country is an ISO 3166 alpha-2 code, e.g. US, CA, GB, AU")
    return value.upper()


# Checked by validators rather than schema patterns: every listed schema token costs every conversation.
AreaCode = Annotated[Annotated[str, AfterValidator(_digits)] | None, Field(description="e.g. 415")]
Country = Annotated[str, AfterValidator(_iso_country), Field(description="e.g. GB")]


def purchasing_tools(services: Services) -> dict[str, Any]:
    client = services.client
    guard = services.purchases

    async def search(**filters: Any) -> list[AvailableNumber]:
        account = await services.managed_account_id()
        with api_errors(retry_safe=True):
            return await client.managed_accounts.search_numbers(account, **filters)

    async def search_available_numbers(
        area_code: AreaCode = None,
        country: Country = "US",
        number_type: Literal["local", "toll_free"] | None = None,
        region: Annotated[str | None, Field(max_length=8, description="State/province, e.g. CA")] = None,
        postal_code: Annotated[str | None, Field(max_length=10)] = None,
        voice: bool | None = None,
        sms: bool | None = None,
        mms: bool | None = None,
        limit: Annotated[int, Field(ge=1, le=50)] = 10,
    ) -> Offers:
        """Find numbers the organization can buy; pass one to purchase_phone_number."""
        offers = await search(
            area_code=area_code,
            country_code=country,
            phone_number_type=number_type,
            in_region=region,
            in_postal_code=postal_code,
            voice_enabled=voice,
            sms_enabled=sms,
            mms_enabled=mms,
            limit=limit,
        )
        guard.remember(offers)
        return Offers(result=[AvailableNumberView.of(offer) for offer in offers])

    async def find_offer(number: str) -> AvailableNumber | None:
        import phonenumbers  # lazily, like args.to_e164

        parsed = phonenumbers.parse(number)
        toll_free = phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.TOLL_FREE
        offers = await search(
            area_code=phonenumbers.national_significant_number(parsed)[:3],
            country_code=phonenumbers.region_code_for_number(parsed),
            phone_number_type="toll_free" if toll_free else "local",
            limit=100,
        )
        return next((offer for offer in offers if offer.phone_number == number), None)

    async def preview_purchase(args: Mapping[str, Any]) -> Preview:
        number: str = args["phone_number"]
        guard.check()
        offer = guard.offered.get(number) or await find_offer(number)
        if offer is None:
            raise ToolError(
                f"{number} is not offered for purchase (any more). "
                "Use search_available_numbers and buy one of the numbers it returns."
            )
        where = ", ".join(filter(None, [offer.locality, offer.region, offer.phone_number_type]))
        summary = (
            f"Buy {number} ({where}) through managed account {await services.managed_account_id()}. "
            "This spends money on the organization's account. A managed trunk is created for it; "
            "no agent answers it until one is assigned. "
            f"Purchases left for this server: {guard.limit - guard.bought - 1}."
        )
        return Preview(summary, {"phone_number": number, "offered": True})

    purchase_gate = services.gatekeeper.gate("purchase_phone_number", preview_purchase, "phone_number")

    async def purchase_phone_number(
        ctx: Context,
        phone_number: PhoneNumberArg,
        approval: Annotated[GateOutcome, Resolve(purchase_gate)],
        confirmation_token: ConfirmationToken = None,
    ) -> Gated[NumberView]:
        """Buy a number search_available_numbers offered. Spends money. Gated."""

        async def purchase() -> NumberView:
            guard.reserve()
            try:
                return await buy()
            except ToolError as exc:
                if _refused(exc.__cause__):
                    guard.release()
                raise

        async def buy() -> NumberView:
            account = await services.managed_account_id()
            with api_errors(
                retry_safe=False,
                not_found="It is no longer offered; search again with search_available_numbers.",
                conflict="The organization already owns it; see get_phone_number.",
                refused="Delete unused numbers or ask Anyreach to raise the limit.",
            ):
                bought = await client.managed_accounts.purchase_number(account, phone_number=phone_number)
            guard.offered.pop(phone_number, None)
            return NumberView.of(bought)

        return await services.gated(
            ctx,
            "purchase_phone_number",
            {"phone_number": phone_number},
            approval,
            purchase,
            changed=[NUMBERS_URI, TRUNKS_URI],
        )

    return {
        "search_available_numbers": search_available_numbers,
        "purchase_phone_number": purchase_phone_number,
    }


def _refused(cause: BaseException | None) -> bool:
    """The API answered no (a 4xx other than 429), so nothing was bought and the slot is free again."""
    return isinstance(cause, APIStatusError) and 400 <= cause.status_code < 500 and cause.status_code != 429
