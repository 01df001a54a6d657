"""One OpenTelemetry span per Anyreach API request: method, route template, status, attempts, duration.

Spans carry no argument: the route template replaces every identifier in the path (a phone number, a
trunk id), and neither the query nor the body is recorded. Without a configured tracer provider (the
default) every span here is a no-op.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode

from mcp_anyreach.api.errors import APIStatusError

_tracer = trace.get_tracer("mcp_anyreach.api")


def route_template(path: str) -> str:
    """`/core/phone-numbers/%2B1415…` -> `/core/phone-numbers/{id}`.

    The API's paths alternate names and identifiers after the `/core` prefix
    (`/core/agents/{id}/versions/{id}/publish`), so every second segment from the third on is an identifier.
    """
    segments = path.strip("/").split("/")
    return "/" + "/".join("{id}" if index >= 2 and index % 2 == 0 else part for index, part in enumerate(segments))


@contextmanager
def api_span(method: str, path: str) -> Generator[Span]:
    route = route_template(path)
    with _tracer.start_as_current_span(
        f"anyreach {method} {route}",
        kind=SpanKind.CLIENT,
        attributes={"http.request.method": method, "url.template": route},
        record_exception=False,  # an error's message may quote what was sent
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except Exception as exc:
            if isinstance(exc, APIStatusError):
                span.set_attribute("http.response.status_code", exc.status_code)
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(StatusCode.ERROR)
            raise
