"""Turns API failures into refusals a model can act on: what went wrong, and the next step."""

from __future__ import annotations

from collections.abc import Callable, Generator
from contextlib import contextmanager

from mcp_anyreach.api import (
    AnyreachError,
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    IncompleteListError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReadOnlyError,
    UnprocessableEntityError,
    WrongRecordError,
)
from mcp_anyreach.domain.refusal import Refusal


@contextmanager
def api_errors(
    *,
    retry_safe: bool,
    not_found: str | None = None,
    conflict: str | None = None,
    refused: str | Callable[[str], str | None] | None = None,
) -> Generator[None]:
    """Re-raise any AnyreachError inside the block as a Refusal with a next step.

    `retry_safe` says whether repeating the same call cannot apply it twice; the message tells the model.
    `not_found`, `conflict` and `refused` (400) add the tool's own next step for those answers; `refused` may
    pick the hint from the refusal's detail, since one call can be refused for different business rules.
    """
    try:
        yield
    except AnyreachError as exc:
        if isinstance(exc, BadRequestError) and callable(refused):
            hint = refused(exc.detail or "")
        else:
            hints: dict[type[AnyreachError], str | None] = {
                NotFoundError: not_found,
                ConflictError: conflict,
                BadRequestError: refused if isinstance(refused, str) else None,
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
        case APIConnectionError() if not exc.retry_may_help:
            what = {
                "refused": "refused the connection",
                "dns": "could not be found (DNS)",
                "tls": "failed the TLS handshake",
            }.get(exc.cause, "could not be reached")
            return (
                f"The Anyreach API at {exc.base_url or 'the configured address'} {what}; nothing was changed, and "
                "retrying will not help. The server's operator must fix ANYREACH_BASE_URL (or the network) and "
                "restart the server; `mcp-anyreach doctor` checks it."
            )
        case InternalServerError() | APIConnectionError():
            where = f" at {exc.base_url}" if isinstance(exc, APIConnectionError) and exc.base_url else ""
            cause = f" ({exc.cause})" if isinstance(exc, APIConnectionError) else ""
            what = f"The Anyreach API{where} could not be reached or failed{cause}"
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
        case WrongRecordError():
            return (
                f"The Anyreach API answered for the wrong record ({exc}), so nothing was shown for confirmation "
                "and nothing was changed. Call again shortly; if it persists, the API is misbehaving: report it "
                "to Anyreach."
            )
        case IncompleteListError():
            return (
                f"Refused: {exc}. Whatever is built on part of a list (a plan, a preview, an audit) would present it "
                "as the whole account, so nothing was done. Retrying will not help while the API pages this way; "
                "the server's operator should report it to Anyreach."
            )
        case _:
            return f"The Anyreach API failed: {exc}."
