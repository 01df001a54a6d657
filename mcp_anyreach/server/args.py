"""Argument types shared by the tools: each is its own schema, validation and description."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from mcp_anyreach.server.text import identifier, single_line

DEFAULT_REGION = "US"
MAX_JSON_BYTES = 64 * 1024


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
Identifier = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(identifier)]
TrunkId = Identifier
AgentId = Identifier
# Names and usernames end up in SIP messages, logs and confirmations a person reads.
Text = Annotated[str, AfterValidator(single_line)]


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
