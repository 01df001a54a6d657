"""Turns API failures into refusals a model can act on: what went wrong, and the next step."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager

from mcp_anyreach.api import (
    AnyreachError,
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReadOnlyError,
    UnprocessableEntityError,
)
from mcp_anyreach.server.refusal import Refusal


@contextmanager
def api_errors(
    *, retry_safe: bool, not_found: str | None = None, conflict: str | None = None, refused: str | None = None
) -> Generator[None]:
    """Re-raise any AnyreachError inside the block as a Refusal with a next step.

    `retry_safe` says whether repeating the same call cannot apply it twice; the message tells the model.
    `not_found`, `conflict` and `refused` (400) add the tool's own next step for those answers.
    """
    try:
        yield
    except AnyreachError as exc:
        hints: dict[type[AnyreachError], str | None] = {
            NotFoundError: not_found,
            ConflictError: conflict,
            BadRequestError: refused,
        }
        hint = hints.get(type(exc))
        raise Refusal(error_message(exc, retry_safe=retry_safe, hint=hint)) from exc


def error_message(exc: AnyreachError, *, retry_safe: bool, hint: str | None = None) -> str:
    detail = exc.detail if isinstance(exc, APIStatusError) else None
    base = _base_message(exc, detail, retry_safe)
    return f"{base} {hint}" if hint else base


def _base_message(exc: AnyreachError, detail: str | None, retry_safe: bool) -> str:
    match exc:
        case ReadOnlyError():
            return "This server runs in read-only mode; no change can be made through it."
        case AuthenticationError():
            return (
                "The Anyreach API refused the credential (401). Check ANYREACH_TOKEN, and for a pat_ token "
                "also ANYREACH_ORG_ID; then restart the server."
            )
        case PermissionDeniedError():
            return (
                f"The Anyreach credential lacks a permission: {detail}. Use a key that has that scope "
                "(set ANYREACH_TOKEN), or ask an administrator to grant it. Retrying will not help."
            )
        case NotFoundError():
            return f"Not found: {detail}."
        case ConflictError():
            return f"Conflict: {detail}."
        case BadRequestError():
            return f"Refused: {detail}."
        case UnprocessableEntityError():
            return f"The API rejected the arguments: {detail}. Correct them and call again."
        case RateLimitError():
            return "The Anyreach API is rate limiting; nothing was applied. It is safe to retry this call shortly."
        case InternalServerError() | APIConnectionError():
            what = "The Anyreach API could not be reached or failed"
            if getattr(exc, "method", None) == "GET":
                return f"{what}; nothing was changed. It is safe to retry this call shortly."
            if retry_safe:
                return (
                    f"{what}; a change may or may not have been applied, but repeating this same call cannot "
                    "apply it twice. It is safe to retry this call shortly."
                )
            return (
                f"{what}, and it is unknown whether the change was applied. Check the current state "
                "(a get_ or list_ tool) before retrying."
            )
        case _:
            return f"The Anyreach API failed: {exc}."
