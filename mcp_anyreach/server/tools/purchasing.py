"""The purchasing toolset: search the managed account's offer and buy numbers from it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import AfterValidator, Field

from mcp_anyreach.api import APIStatusError, AvailableNumber
from mcp_anyreach.domain.api_errors import api_errors
from mcp_anyreach.domain.args import ConfirmationToken, PhoneNumberArg
from mcp_anyreach.domain.records import AvailableNumberView, Gated, NumberView, Result
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.uris import NUMBERS_URI, TRUNKS_URI, number_uri
from mcp_anyreach.server.gate.gatekeeper import Verdict
from mcp_anyreach.server.gate.tokens import Preview
from mcp_anyreach.server.services import Services


class Offers(Result):
    items: list[AvailableNumberView]
    hint: str | None = None


def _digits(value: str) -> str:
    if not value.isdigit() or len(value) > 5:
        raise ValueError("an area code is 1 to 5 digits, e.g. 415 (US) or 20 (GB)")
    return value


def _iso_country(value: str) -> str:
    if value.upper() == "UK":  # the everyday name; ISO 3166 says GB, and the API would quietly find nothing
        raise ValueError("UK is not an ISO code; use GB")
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise ValueError("a country is an ISO 3166 alpha-2 code, e.g. US, CA, GB, AU")
    return value.upper()


# Checked by validators rather than schema patterns: every listed schema token costs every conversation.
AreaCode = Annotated[Annotated[str, AfterValidator(_digits)] | None, Field(description="e.g. 415")]
Country = Annotated[str, AfterValidator(_iso_country), Field(description="e.g. GB")]


async def search_available_numbers(
    services: Services,
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
    offers = await _search(
        services,
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
    await services.purchases.remember(offers)
    hint = _needs_address(offers) if offers else _nothing_found(area_code, country, number_type)
    return Offers(items=[AvailableNumberView.of(offer) for offer in offers], hint=hint)


def _nothing_found(area_code: str | None, country: str, number_type: str | None) -> str:
    tries = ["a nearby area code" if area_code else "an area code", "region (state or province) instead"]
    if number_type is not None:
        tries.append(f"number_type {'toll_free' if number_type == 'local' else 'local'}")
    if country != "US":
        tries.append("another country")
    return f"Nothing on offer for these filters. Try {', or '.join(tries)}."


def _needs_address(offers: list[AvailableNumber]) -> str | None:
    if all(offer.address_requirements in (None, "none") for offer in offers):
        return None
    return (
        "Numbers whose address_requirements is not none need the organization's address on file "
        "(local: in the number's country; foreign: outside it; any: anywhere); the purchase preview says what follows."
    )


def _address_warning(offer: AvailableNumber) -> str:
    """What buying a number with an address requirement asks of the user, since the purchase sends no address."""
    requirement = offer.address_requirements or "none"
    if requirement == "none":
        return ""
    where = {
        "any": "an address (in any country)",
        "local": f"an address in {offer.iso_country or 'its country'}",
        "foreign": f"an address outside {offer.iso_country or 'its country'}",
    }.get(requirement, "an address")  # a value the contract does not list still needs one
    return (
        f" ADDRESS REQUIRED: the carrier needs {where} on file for this number (address_requirements "
        f"{offer.address_requirements}). The purchase sends no address: make sure Anyreach holds the organization's "
        "address before buying, or the number may be refused or suspended after purchase."
    )


async def preview_purchase_phone_number(services: Services, phone_number: str) -> Preview:
    purchases = services.purchases
    left = await purchases.remaining()
    offer = await purchases.recall(phone_number) or await _find_offer(services, phone_number)
    if offer is None:
        raise Refusal(
            f"{phone_number} is not offered for purchase (any more). "
            "Use search_available_numbers and buy one of the numbers it returns."
        )
    where = ", ".join(filter(None, [offer.locality, offer.region, offer.phone_number_type]))
    summary = (
        f"Buy {phone_number} ({where}) through managed account {await services.managed_account.id()}. "
        "This spends money on the organization's account. A managed trunk is created for it; "
        "no agent answers it until one is assigned. "
        f"Purchases left after this one: {left - 1} (limit {purchases.limit_text})."
        f"{_address_warning(offer)}"
    )
    return Preview(summary, {"phone_number": phone_number, "offered": True}, (number_uri(phone_number),))


async def purchase_phone_number(
    services: Services,
    ctx: Context,
    phone_number: PhoneNumberArg,
    verdict: Verdict,
    confirmation_token: ConfirmationToken = None,
) -> Gated[NumberView]:
    """Buy a number search_available_numbers offered. Spends money. Gated."""
    purchases = services.purchases

    async def purchase() -> NumberView:
        reservation = await purchases.reserve()
        try:
            return await _buy(services, phone_number)
        except Refusal as exc:
            if _refused(exc.__cause__):
                await purchases.release(reservation)
            raise

    changed = [NUMBERS_URI, number_uri(phone_number), TRUNKS_URI]
    return await services.gatekeeper.run(ctx, verdict, purchase, changed=changed)


async def _search(services: Services, **filters: Any) -> list[AvailableNumber]:
    account = await services.managed_account.id()
    with api_errors(retry_safe=True):
        return await services.client.managed_accounts.search_numbers(account, **filters)


async def _find_offer(services: Services, number: str) -> AvailableNumber | None:
    import phonenumbers  # lazily, like args.to_e164

    parsed = phonenumbers.parse(number)
    toll_free = phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.TOLL_FREE
    offers = await _search(
        services,
        area_code=phonenumbers.national_significant_number(parsed)[:3],
        country_code=phonenumbers.region_code_for_number(parsed),
        phone_number_type="toll_free" if toll_free else "local",
        limit=100,
    )
    return next((offer for offer in offers if offer.phone_number == number), None)


async def _buy(services: Services, phone_number: str) -> NumberView:
    account = await services.managed_account.id()
    with api_errors(
        retry_safe=False,
        not_found="It is no longer offered; search again with search_available_numbers.",
        conflict="The organization already owns it; see get_phone_number.",
        refused="Delete unused numbers or ask Anyreach to raise the limit.",
    ):
        bought = await services.client.managed_accounts.purchase_number(account, phone_number=phone_number)
    await services.purchases.forget(phone_number)
    return NumberView.of(bought)


def _refused(cause: BaseException | None) -> bool:
    """The API answered no (a 4xx other than 429), so nothing was bought and the slot is free again."""
    return isinstance(cause, APIStatusError) and 400 <= cause.status_code < 500 and cause.status_code != 429
