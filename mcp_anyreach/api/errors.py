"""Every error the Anyreach client raises, and the one function that maps failures onto them.

    AnyreachError
    ├── APIStatusError(status_code, detail, request_id, body)   the API answered with an error status
    │   ├── BadRequestError            400  (business-rule refusals: managed trunk, number limit, ...)
    │   ├── AuthenticationError        401
    │   ├── PermissionDeniedError      403  (the token lacks the endpoint's scope)
    │   ├── NotFoundError              404
    │   ├── ConflictError              409
    │   ├── UnprocessableEntityError   422  (detail joins the validation errors)
    │   ├── RateLimitError             429
    │   └── InternalServerError        >= 500
    ├── APIConnectionError(base_url, cause)                      no usable answer arrived
    │   └── APITimeoutError                                       cause "timeout"
    ├── IncompleteListError            a listing ended early: its cursors went round, or it passed MAX_PAGES
    ├── PasswordRequiredError          a whole-trunk update lacks a write-only password; nothing was written
    ├── WrongRecordError               a GET for one record answered with another's (phone_number or id)
    └── ReadOnlyError                  a write on a read_only client; raised before any I/O

No message, attribute or repr of these errors carries the bearer token or a SIP password: the
mapping function scrubs every secret the request carried out of the detail and the body.

A connection failure names the API's address (without any credential) and one cause: "refused" (nothing
listens there), "dns" (the host name does not resolve), "tls" (the handshake or certificate failed),
"timeout", or "other" (e.g. a connection dropped mid-answer). The first three do not go away by retrying:
the address or the network setup is wrong.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal, NoReturn, cast

import httpx2

__all__ = [
    "PERSISTENT_CAUSES",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AnyreachError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ConnectionCause",
    "IncompleteListError",
    "InternalServerError",
    "NotFoundError",
    "PasswordRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReadOnlyError",
    "UnprocessableEntityError",
    "WrongRecordError",
    "connection_cause",
    "display_url",
    "raise_api_error",
]

REDACTED = "[redacted]"


class AnyreachError(Exception):
    """Base class of everything the Anyreach client raises."""


class IncompleteListError(AnyreachError):
    """Walking a list's pages stopped before its end: the API's cursors came back round, or there were too many
    pages. Whatever would be built on the items read so far would describe part of the account as all of it."""


class APIStatusError(AnyreachError):
    """The API answered with a non-success status."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        request_id: str | None = None,
        body: object = None,
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.request_id = request_id
        self.body = body
        self.method = method
        self.path = path
        super().__init__(self._sentence())

    def _sentence(self) -> str:
        target = f"{self.method} {self.path}" if self.method and self.path else "the request"
        sentence = f"{target} failed with HTTP {self.status_code}: {self.detail or 'no detail given'}"
        if self.request_id:
            sentence += f" (request id {self.request_id})"
        return sentence

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, detail={self.detail!r})"


class BadRequestError(APIStatusError):
    """400: the request broke a business rule."""


class AuthenticationError(APIStatusError):
    """401: the token is missing, unknown, malformed, or a pat_ token came without an organization."""


class PermissionDeniedError(APIStatusError):
    """403: the token lacks the scope this endpoint needs."""


class NotFoundError(APIStatusError):
    """404: the object does not exist in this organization."""


class ConflictError(APIStatusError):
    """409: the object already exists."""


class UnprocessableEntityError(APIStatusError):
    """422: the request body or query failed validation."""


class RateLimitError(APIStatusError):
    """429: too many requests."""


class InternalServerError(APIStatusError):
    """5xx: the service failed."""


ConnectionCause = Literal["refused", "dns", "tls", "timeout", "other"]
# Causes that repeat on every attempt until the configuration or the network changes.
PERSISTENT_CAUSES: frozenset[ConnectionCause] = frozenset({"refused", "dns", "tls"})


class APIConnectionError(AnyreachError):
    """No usable answer arrived: the connection failed or dropped.

    `base_url` is the API address the client was configured with (credentials removed), `cause` one of
    refused, dns, tls, timeout or other, and `reason` the low-level message (secrets removed).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        base_url: str | None = None,
        cause: ConnectionCause = "other",
        reason: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.base_url = base_url
        self.cause: ConnectionCause = cause
        self.reason = reason
        super().__init__(message)

    @property
    def retry_may_help(self) -> bool:
        """False when the address refuses, does not resolve or fails TLS: the same call fails the same way."""
        return self.cause not in PERSISTENT_CAUSES


class APITimeoutError(APIConnectionError):
    """The request timed out; whether the service acted on it is unknown."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        base_url: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, base_url=base_url, cause="timeout", reason=reason)


class PasswordRequiredError(AnyreachError):
    """Updating a trunk sends it whole, and a config that keeps authentication needs its password again.

    The API never returns passwords, so the client cannot send them back by itself; nothing was written.
    """

    def __init__(self, trunk_id: str, sides: Sequence[str]) -> None:
        self.trunk_id = trunk_id
        self.sides = tuple(sides)
        which = " and ".join(self.sides)
        super().__init__(
            f"Updating trunk {trunk_id} sends the whole trunk, and its {which} config keeps authentication "
            f"whose password the API never returns: give the {which} password again"
        )


class WrongRecordError(AnyreachError):
    """A GET for one record (`asked`) answered with another (`found`): whatever is shown or decided from it
    would describe one record while a write goes to the other, so the answer is not used."""

    def __init__(self, method: str, path: str, asked: str, found: str) -> None:
        self.method = method
        self.path = path
        self.asked = asked
        self.found = found
        # `found` is the API's text: clipped, and repr escapes every character that could forge a line.
        super().__init__(f"{method} {path} asked for {asked!r} but answered with the record of {found[:64]!r}")


class ReadOnlyError(AnyreachError):
    """The client was built with read_only=True and a write was attempted; nothing was sent."""

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path
        super().__init__(
            f"{method} {path} was not sent: this Anyreach client is read-only (read_only=True) and only allows reads"
        )


_STATUS_CLASSES: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def raise_api_error(
    failure: httpx2.Response | httpx2.HTTPError,
    *,
    method: str,
    path: str,
    secrets: Iterable[str] = (),
    base_url: str | None = None,
) -> NoReturn:
    """Raise the AnyreachError for an error response or an httpx2 exception (the only mapping)."""
    known = sorted((s for s in secrets if s), key=len, reverse=True)
    if isinstance(failure, httpx2.Response):
        status = failure.status_code
        body = _scrub(_body_of(failure), known)
        cls = _STATUS_CLASSES.get(status, InternalServerError if status >= 500 else APIStatusError)
        raise cls(
            status,
            _scrub_text(_detail_of(body, failure.reason_phrase), known),
            failure.headers.get("x-request-id"),
            body,
            method=method,
            path=path,
        )
    reason = _scrub_text(str(failure) or type(failure).__name__, known)
    base_url = None if base_url is None else _scrub_text(base_url, known)
    where = "the Anyreach API" if base_url is None else f"the Anyreach API at {base_url}"
    cause = connection_cause(failure)
    context = {"method": method, "path": path, "base_url": base_url, "reason": reason}
    if cause == "timeout":
        raise APITimeoutError(f"{method} {path} timed out waiting for {where}: {reason}", **context) from failure
    sentences: dict[ConnectionCause, str] = {
        "refused": f"{where} refused the connection: nothing accepts connections at that address and port",
        "dns": f"the host name of {where} does not resolve ({reason})",
        "tls": f"the TLS handshake with {where} failed ({reason})",
        "other": f"got no usable answer from {where}: {reason}",
    }
    raise APIConnectionError(f"{method} {path}: {sentences[cause]}", cause=cause, **context) from failure


def connection_cause(failure: BaseException) -> ConnectionCause:
    """Classify a transport failure by the low-level errors chained under it."""
    if isinstance(failure, httpx2.TimeoutException):
        return "timeout"
    found = list(_chained(failure))
    for kind, cause in _LOW_LEVEL_CAUSES:
        if any(isinstance(error, kind) for error in found):
            return cause
    return "other"


# In order of precedence: one attempt of several (IPv6, then IPv4) may fail otherwise than the last.
_LOW_LEVEL_CAUSES: tuple[tuple[type[OSError], ConnectionCause], ...] = (
    (ssl.SSLError, "tls"),
    (socket.gaierror, "dns"),
    (ConnectionRefusedError, "refused"),
)


def _chained(failure: BaseException) -> Iterator[BaseException]:
    """The failure, its causes and contexts, and the members of any exception group among them."""
    pending, seen = [failure], set[int]()
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        if isinstance(error, BaseExceptionGroup):
            pending.extend(cast(BaseExceptionGroup[BaseException], error).exceptions)
        pending.extend(linked for linked in (error.__cause__, error.__context__) if linked is not None)


def display_url(url: httpx2.URL | str) -> str:
    """An address safe to show: scheme, host, port and path, never user information or a query.

    Also for a mistyped address (`user:password@host` without a scheme, an invalid port): what cannot be
    parsed is shown without its query and without anything up to its last `@`.
    """
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, ValueError, TypeError):
        parsed = None
    if parsed is None or not parsed.host:
        text = str(url).split("?", 1)[0].split("#", 1)[0]
        scheme, separator, rest = text.rpartition("://")
        return f"{scheme}{separator}{rest.rpartition('@')[2]}".rstrip("/")
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{host}{port}{parsed.path}".rstrip("/")


def _body_of(response: httpx2.Response) -> object:
    try:
        return cast(object, response.json())
    except ValueError:
        return response.text


def _detail_of(body: object, reason_phrase: str) -> str:
    if not isinstance(body, dict):
        return body.strip() if isinstance(body, str) and body.strip() else reason_phrase
    detail = cast(dict[str, object], body).get("detail")
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(_validation_item(item) for item in cast(list[object], detail))
    return json.dumps(detail) if detail is not None else reason_phrase


def _validation_item(item: object) -> str:
    if not isinstance(item, dict):
        return str(item)
    entry = cast(dict[str, object], item)
    loc = entry.get("loc")
    where = ".".join(str(part) for part in cast(list[object], loc)) if isinstance(loc, list) else ""
    message = str(entry.get("msg", "invalid"))
    return f"{where}: {message}" if where else message


def _scrub(value: object, secrets: Sequence[str]) -> object:
    """Copy a decoded JSON body with password fields and every known secret replaced."""
    if isinstance(value, str):
        return _scrub_text(value, secrets)
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in cast(list[object], value)]
    if isinstance(value, dict):
        entries = cast(dict[object, object], value)
        cleaned: dict[str, object] = {}
        for key, item in entries.items():
            name = str(key)
            sensitive = "password" in name.lower() and isinstance(item, str)
            cleaned[name] = REDACTED if sensitive else _scrub(item, secrets)
        # A validation error echoes its input; when it concerns a password, the input is the password.
        if "loc" in cleaned and "password" in str(cleaned["loc"]).lower() and "input" in cleaned:
            cleaned["input"] = REDACTED
        return cleaned
    return value


def _scrub_text(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text
