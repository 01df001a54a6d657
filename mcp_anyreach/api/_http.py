"""The single path every request takes: read-only gate, retries with backoff, error mapping."""

from __future__ import annotations

import email.utils
import logging
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from urllib.parse import quote

import httpx2
from pydantic import BaseModel, ValidationError

from mcp_anyreach.api.errors import (
    PERSISTENT_CAUSES,
    AnyreachError,
    ReadOnlyError,
    WrongRecordError,
    connection_cause,
    display_url,
    raise_api_error,
)
from mcp_anyreach.api.tracing import api_span
from mcp_anyreach.validation import describe

logger = logging.getLogger("mcp_anyreach.api")

M = TypeVar("M", bound=BaseModel)
Sleep = Callable[[float], Awaitable[object]]
Params = Mapping[str, str | int | bool | datetime | None]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
IDEMPOTENT_METHODS = SAFE_METHODS | {"PUT", "DELETE"}
AMBIGUOUS_STATUSES = frozenset({502, 503, 504})  # the service may have acted before failing
RETRYABLE_STATUSES = AMBIGUOUS_STATUSES | {429}
MAX_RETRY_AFTER = 30.0


def path_segment(value: str) -> str:
    """Percent-encode one path segment; httpx2 would otherwise leave the `+` of E.164 raw."""
    return quote(value, safe="")


def query_value(value: str | int | bool | datetime) -> str | int | bool:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.isoformat().replace("+00:00", "Z")
    return value


class LazyTransport(httpx2.AsyncBaseTransport):
    """The default network transport, built on the first request: its TLS setup costs a tenth of a
    second that a server launched by a host should not pay before it can answer `initialize`."""

    def __init__(self) -> None:
        self._transport: httpx2.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._transport is None:
            self._transport = httpx2.AsyncHTTPTransport()
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()


class HTTPCore:
    def __init__(
        self,
        http: httpx2.AsyncClient,
        *,
        token: str,
        max_retries: int,
        read_only: bool,
        sleep: Sleep,
        retry_base_delay: float,
        retry_max_delay: float,
    ) -> None:
        self.http = http
        self.base_url = display_url(http.base_url)
        self._token = token
        self.max_retries = max_retries
        self.read_only = read_only
        self._sleep = sleep
        self._retry_base_delay = retry_base_delay
        self._retry_max_delay = retry_max_delay
        self.max_limit: int | None = None  # the largest `limit` the service accepted after refusing a larger one
        self.cursor_seen = False  # a list answered with a next-page cursor this client recognises

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: object = None,
    ) -> httpx2.Response:
        """Send one logical request (one trace span, however many attempts), retrying where that is safe."""
        with api_span(method, path) as span:
            response = await self._send(method, path, params=params, json=json)
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: object = None,
    ) -> httpx2.Response:
        """Send one logical request, retrying where that cannot do a write twice.

        A POST or PATCH that dropped or got a 502/503/504 may have been applied, so only idempotent
        methods are re-sent after those; a 429 was refused outright, so any method is retried after it. A
        refused connection, an unresolvable host or a failed TLS handshake fails at once: waiting changes
        nothing there.
        """
        if self.read_only and method not in SAFE_METHODS:
            raise ReadOnlyError(method, path)
        may_repeat = method in IDEMPOTENT_METHODS
        query = {key: query_value(value) for key, value in (params or {}).items() if value is not None}
        attempt = 0
        unanswered = False  # an earlier attempt may have been applied without our hearing of it
        while True:
            try:
                response = await self.http.request(method, path, params=query or None, json=json)
            except httpx2.RequestError as exc:
                retryable = (
                    isinstance(exc, httpx2.TransportError)
                    and may_repeat
                    and connection_cause(exc) not in PERSISTENT_CAUSES
                )
                if not retryable or attempt >= self.max_retries:
                    secrets = [self._token, *_passwords_in(json)]
                    raise_api_error(exc, method=method, path=path, secrets=secrets, base_url=self.base_url)
                delay = self._backoff(attempt, None)
                unanswered = True
                logger.debug(
                    "%s %s failed (%s); retry %d in %.2fs",
                    method,
                    path,
                    type(exc).__name__,
                    attempt + 1,
                    delay,
                )
            else:
                logger.debug("%s %s -> %d", method, path, response.status_code)
                status = response.status_code
                if response.is_success or (method == "DELETE" and status == 404 and unanswered):
                    # A re-sent DELETE that finds nothing: the unanswered attempt already deleted it.
                    return response
                retryable = status in RETRYABLE_STATUSES and (status == 429 or may_repeat)
                if not retryable or attempt >= self.max_retries:
                    raise_api_error(response, method=method, path=path, secrets=[self._token, *_passwords_in(json)])
                delay = self._backoff(attempt, response.headers.get("retry-after"))
                unanswered = unanswered or status != 429
                logger.debug("%s %s retry %d in %.2fs", method, path, attempt + 1, delay)
            await self._sleep(delay)
            attempt += 1

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        hinted = _retry_after_seconds(retry_after)
        if hinted is not None:
            return min(hinted, MAX_RETRY_AFTER)
        ceiling = min(self._retry_base_delay * 2**attempt, self._retry_max_delay)
        # Jitter spreads retries of many clients apart; it needs no cryptographic quality.
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _passwords_in(payload: object) -> Iterator[str]:
    if isinstance(payload, dict):
        for key, value in cast(dict[object, object], payload).items():
            if isinstance(value, str) and "password" in str(key).lower():
                yield value
            else:
                yield from _passwords_in(value)
    elif isinstance(payload, list):
        for item in cast(list[object], payload):
            yield from _passwords_in(item)


def parse_json(response: httpx2.Response) -> object:
    try:
        return cast(object, response.json())
    except ValueError as exc:
        raise unexpected_response(response, "the body is not JSON") from exc


def parse_model(response: httpx2.Response, model: type[M]) -> M:
    return validate(response, model, parse_json(response))


def parse_record(response: httpx2.Response, model: type[M], key: str, asked: str) -> M:
    """The record a GET asked for by `key`; WrongRecordError when the API answered with another one."""
    record = parse_model(response, model)
    found = getattr(record, key)
    if found != asked:
        raise WrongRecordError(response.request.method, response.request.url.path, asked, str(found))
    return record


def validate(response: httpx2.Response, model: type[M], data: object) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise unexpected_response(response, f"it does not match {model.__name__} ({describe(exc)})") from None


def unexpected_response(response: httpx2.Response, why: str) -> AnyreachError:
    request = response.request
    return AnyreachError(
        f"{request.method} {request.url.path} answered {response.status_code} but {why}; "
        "the Anyreach API may have changed"
    )


def as_list(payload: object, *keys: str) -> list[Any] | None:
    """A JSON array, or the array under the first of `keys` present in an envelope object."""
    if isinstance(payload, list):
        return cast(list[Any], payload)
    if isinstance(payload, dict):
        envelope = cast(dict[str, object], payload)
        for key in keys:
            value = envelope.get(key)
            if isinstance(value, list):
                return cast(list[Any], value)
    return None
