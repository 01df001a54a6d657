"""Argument types shared by the tools: each is its own schema, validation and description."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from mcp_anyreach.api import InboundConfig, OutboundConfig
from mcp_anyreach.domain.text import identifier, single_line

MAX_JSON_BYTES = 64 * 1024
EXAMPLE = "like +14155550100"


def to_e164(value: str) -> str:
    """Normalise a phone number to E.164; a number without its country code is refused, never guessed."""
    import phonenumbers  # here, not at start-up: most sessions never validate a number

    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            raise ValueError(_without_country(value)) from exc
        raise ValueError(f"{value[:40]!r} is not a phone number; give it in E.164, {EXAMPLE}") from exc
    if not phonenumbers.is_valid_number(parsed):
        if phonenumbers.is_possible_number(parsed):
            raise ValueError(
                f"{value[:40]!r} is well-formed, but no such number exists (its area or network code is not in "
                "use): check the digits"
            )
        raise ValueError(f"{value[:40]!r} is not a valid phone number; give it in E.164, {EXAMPLE}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _without_country(value: str) -> str:
    """Why a national number is refused, and the E.164 form to send where the digits say which it is."""
    import phonenumbers

    digits = phonenumbers.normalize_digits_only(value)
    shown = f"{value[:40]!r} has no country code, and the country is never guessed"
    if digits.startswith("00") and (international := _valid_e164(f"+{digits[2:]}")):
        return f"{value[:40]!r} starts with the international prefix 00: send {international!r}"
    if digits.startswith("0"):
        uk = _valid_e164(f"+44{digits[1:]}")
        example = f", e.g. {uk!r} if it is in the UK (GB)" if uk else ""
        return f"{shown}: drop the trunk prefix 0 and put + and the country code in front{example}"
    if north_american := _valid_e164(value, "US"):
        return f"{shown}: if it is a US or Canadian number, send {north_american!r}; otherwise + and its country code"
    return f"{shown}: give it in E.164, + and the country code first, {EXAMPLE}"


def _valid_e164(value: str, region: str | None = None) -> str | None:
    import phonenumbers

    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


E164 = Annotated[str, Field(max_length=40), AfterValidator(to_e164)]
PhoneNumberArg = Annotated[E164, Field(description="E.164, e.g. +14155550100")]
PhoneNumberList = Annotated[list[E164], Field(max_length=100, description="E.164 numbers")]
Limit = Annotated[int, Field(ge=1, le=100)]
Cursor = Annotated[str | None, Field(max_length=512, description="next_cursor from the previous page")]
ConfirmationToken = Annotated[
    str | None, Field(max_length=1024, description="Only from a confirmation_required result")
]
Identifier = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(identifier)]
TrunkId = Annotated[Identifier, Field(description="From list_trunks")]
AgentId = Annotated[Identifier, Field(description="From list_agents")]
# Names and usernames end up in SIP messages, logs and confirmations a person reads.
Text = Annotated[str, AfterValidator(single_line)]
TrunkName = Annotated[Text, Field(min_length=1, max_length=128)]
AgentRef = Annotated[Text, Field(min_length=1, max_length=128, description="Agent id or exact name")]


def small_json(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse a JSON object over MAX_JSON_BYTES: it is stored, and every later read would carry it."""
    try:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except UnicodeError:
        raise ValueError("contains text that is not valid Unicode (a lone surrogate)") from None
    if size > MAX_JSON_BYTES:
        raise ValueError(f"is {size:,} bytes of JSON; at most {MAX_JSON_BYTES:,} are accepted")
    return value


SmallJson = Annotated[dict[str, Any], AfterValidator(small_json)]


# SIP trunk settings: what update_trunk and create_trunk accept for each direction.
Encryption = Literal["NONE", "ALLOW", "REQUIRE"]
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_HEADER_NAME = re.compile(r"X-[A-Za-z0-9-]{1,64}")


def _address_or_cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError as exc:
        raise ValueError(f"{value[:60]!r} is not an IPv4/IPv6 address or CIDR block") from exc


def _sip_address(value: str) -> str:
    """A carrier host name or IP with an optional port, nothing else (no scheme, user, params or headers)."""
    bracketed = value.startswith("[")
    host, _, port = value.rpartition(":") if bracketed or value.count(":") == 1 else (value, "", "")
    host = host.strip("[]") if bracketed else host
    host_ok = _is_ip(host) or bool(host and all(_HOST_LABEL.fullmatch(part) for part in host.rstrip(".").split(".")))
    if host_ok and (not port or (port.isdigit() and 0 < int(port) < 65536)):
        return value
    raise ValueError(f"{value[:60]!r} is not a host name or IP address with an optional :port (1-65535, no sip:)")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _sip_headers(value: dict[str, str]) -> dict[str, str]:
    for name, text in value.items():
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"header {name[:40]!r}: names are X-... tokens")
        single_line(text)
    return value


class _Args(BaseModel):
    """Trunk settings; update_trunk merges the fields given onto the current side, so a null must mean "clear"."""

    model_config = ConfigDict(extra="forbid", defer_build=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _null_only_where_clearable(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        given = cast(dict[str, object], data)
        for key, value in given.items():
            field = cls.model_fields.get(key)
            if value is None and field is not None and not _nullable(field.annotation):
                raise ValueError(f"{key} cannot be null: the API requires it; leave it out to keep its value")
        return given


def _nullable(annotation: Any) -> bool:
    return annotation is None or type(None) in get_args(annotation)


class InboundArgs(_Args):
    """Carrier to Anyreach calls."""

    allowed_addresses: list[Annotated[str, AfterValidator(_address_or_cidr)]] = Field(
        default=[], max_length=50, description="Carrier IPs/CIDRs; empty: any"
    )
    allowed_numbers: PhoneNumberList = Field(default=[], description="Allowed callers, E.164; empty: any")
    auth_username: Text | None = Field(default=None, max_length=128)
    auth_password: SecretStr | None = Field(default=None, max_length=128)
    media_encryption: Encryption = "NONE"
    enable_noise_cancellation: bool = False


class OutboundArgs(_Args):
    """Anyreach to carrier calls; a new one needs address, auth_username, auth_password."""

    # Required for a new outbound config (trunk_merge checks); a None default lets an update name one field,
    # while the non-null type refuses an explicit null for a field the API requires.
    address: Annotated[str, AfterValidator(_sip_address)] = Field(
        default=None,  # pyright: ignore[reportAssignmentType]
        max_length=260,
        description="Carrier SIP host or IP, optional :port, no sip: prefix",
    )
    auth_username: Text = Field(default=None, max_length=128)  # pyright: ignore[reportAssignmentType]
    auth_password: SecretStr = Field(default=None, max_length=128)  # pyright: ignore[reportAssignmentType]
    transport: Literal["UDP", "TCP", "TLS"] = "UDP"
    media_encryption: Encryption = "NONE"
    headers: Annotated[dict[str, Annotated[str, Field(max_length=256)]], AfterValidator(_sip_headers)] = Field(
        default={}, max_length=20, description="Custom X-... SIP headers"
    )


def inbound_config(args: InboundArgs) -> InboundConfig:
    return InboundConfig.model_validate(args.model_dump())


def outbound_config(args: OutboundArgs) -> OutboundConfig:
    return OutboundConfig.model_validate(args.model_dump())
