"""Argument types shared by the tools: each is its own schema, validation and description."""

from __future__ import annotations

from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, Field

DEFAULT_REGION = "US"


def to_e164(value: str) -> str:
    """Normalise a phone number to E.164; national numbers are read as US/CA."""
    try:
        parsed = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value[:40]!r} is not a phone number; give it in E.164, like +14155550100") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value[:40]!r} is not a valid phone number; give it in E.164, like +14155550100")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


PhoneNumberArg = Annotated[
    str,
    Field(max_length=40, description="E.164 (+14155550100); US/CA national formats are accepted"),
    AfterValidator(to_e164),
]
PhoneNumberList = Annotated[list[PhoneNumberArg], Field(max_length=100)]
Limit = Annotated[int, Field(ge=1, le=100, description="Page size")]
Cursor = Annotated[str | None, Field(max_length=512, description="next_cursor from the previous page")]
ConfirmationToken = Annotated[
    str | None,
    Field(max_length=1024, description="From a confirmation_required result; only after the user agreed"),
]
TrunkId = Annotated[str, Field(min_length=1, max_length=64)]
