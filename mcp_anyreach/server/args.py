"""Argument types shared by the tools: each is its own schema, validation and description."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

DEFAULT_REGION = "US"


def to_e164(value: str) -> str:
    """Normalise a phone number to E.164; national numbers are read as US/CA."""
    import phonenumbers  # here, not at start-up: most sessions never validate a number

    try:
        parsed = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value[:40]!r} is not a phone number; give it in E.164, like +14155550100") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value[:40]!r} is not a valid phone number; give it in E.164, like +14155550100")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


E164 = Annotated[str, Field(max_length=40), AfterValidator(to_e164)]
PhoneNumberArg = Annotated[E164, Field(description="E.164, e.g. +14155550100")]
PhoneNumberList = Annotated[list[E164], Field(max_length=100, description="E.164 numbers")]
Limit = Annotated[int, Field(ge=1, le=100)]
Cursor = Annotated[str | None, Field(max_length=512, description="next_cursor from the previous page")]
# Undescribed on purpose: the confirmation_required result says when and how to pass it back.
ConfirmationToken = Annotated[str | None, Field(max_length=1024)]
TrunkId = Annotated[str, Field(min_length=1, max_length=64)]


def single_line(value: str) -> str:
    """Refuse control characters: names and usernames end up in SIP messages and logs."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("control characters (such as line breaks) are not allowed here")
    return value


Text = Annotated[str, AfterValidator(single_line)]
