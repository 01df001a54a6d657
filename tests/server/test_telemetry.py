"""OpenTelemetry: a span per MCP request and per Anyreach request, with the tool, its outcome and the
status, never an argument; and nothing exported unless the OTEL_* variables ask for it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mcp_anyreach.server.telemetry import tracer_provider_from_env
from tests.server.conftest import ServerFactory, call, connect
from tests.server.loopback import free_port, serving

PASSWORD = "sip-password-canary-71c0"
DEMO_NUMBER = "+12125550132"


class WhileRecording(SimpleSpanProcessor):
    """The global provider can be set once per process: it keeps spans only while a test here records."""

    recording = False

    def on_end(self, span: ReadableSpan) -> None:
        if self.recording:
            super().on_end(span)


_EXPORTER = InMemorySpanExporter()
_PROCESSOR = WhileRecording(_EXPORTER)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(_PROCESSOR)
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    _PROCESSOR.recording = True
    try:
        yield _EXPORTER
    finally:
        _PROCESSOR.recording = False
        _EXPORTER.clear()


def everything_recorded(finished: tuple[ReadableSpan, ...]) -> str:
    return json.dumps(
        [
            {"name": s.name, "attributes": dict(s.attributes or {}), "events": [e.name for e in s.events]}
            for s in finished
        ],
        default=str,
    )


def named(finished: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    matches = [span for span in finished if span.name == name]
    assert len(matches) == 1, [span.name for span in finished]
    return matches[0]


async def test_a_tool_call_and_its_anyreach_requests_are_traced_with_outcome_and_status_but_no_argument(
    make_server: ServerFactory, spans: InMemorySpanExporter, era: str
) -> None:
    outbound: dict[str, Any] = {"address": "sip.carrier.example", "auth_username": "acme", "auth_password": PASSWORD}
    async with connect(make_server(), era) as client:
        await call(client, "get_phone_number", {"phone_number": DEMO_NUMBER})
        await call(client, "delete_phone_number", {"phone_number": DEMO_NUMBER})
        creation = {"name": "Traced PBX", "outbound": outbound}
        preview = await call(client, "create_trunk", creation)
        previewed: dict[str, Any] = preview.structured_content or {}
        token = previewed["confirmation_token"]
        await call(client, "create_trunk", {**creation, "confirmation_token": token})
        await call(client, "get_phone_number", {"phone_number": "+14155550100"})
    finished = spans.get_finished_spans()

    read = next(s for s in finished if s.name == "tools/call get_phone_number")
    assert read.kind == SpanKind.SERVER
    assert (read.attributes or {})["gen_ai.tool.name"] == "get_phone_number"
    api = [s for s in finished if s.name == "anyreach GET /core/phone-numbers/{id}"]
    assert {s.context.trace_id for s in api} <= {s.context.trace_id for s in finished if s.kind == SpanKind.SERVER}
    assert sorted((s.attributes or {})["http.response.status_code"] for s in api) == [200, 200, 404]
    gated = named(finished, "tools/call delete_phone_number")
    assert (gated.attributes or {})["mcp_anyreach.tool.status"] == "confirmation_required"
    assert named(finished, "anyreach POST /core/trunks").status.status_code == StatusCode.UNSET
    reads = [s for s in finished if s.name == "tools/call get_phone_number"]
    assert [s.status.status_code for s in reads].count(StatusCode.ERROR) == 1, "an unknown number is an error"
    recorded = everything_recorded(finished)
    assert PASSWORD not in recorded
    assert DEMO_NUMBER not in recorded
    assert "4155550100" not in recorded


@pytest.fixture
def otel_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The environment without any OTEL_* variable; the test sets the ones it is about."""
    for name in [name for name in os.environ if name.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(
    "variables",
    [{}, {"OTEL_TRACES_EXPORTER": "none"}, {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}],
    ids=["none set", "exporter none", "sdk disabled"],
)
def test_without_otel_variables_asking_for_it_nothing_is_exported(
    otel_env: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    for name, value in variables.items():
        otel_env.setenv(name, value)
    assert tracer_provider_from_env() is None


def test_an_exporter_the_server_does_not_ship_is_refused_by_name(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ValueError, match="zipkin"):
        tracer_provider_from_env()


def test_the_console_exporter_writes_to_stderr_never_stdout(
    otel_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    otel_env.setenv("OTEL_TRACES_EXPORTER", "console")
    otel_env.setenv("OTEL_SERVICE_NAME", "anyreach-test")
    provider = tracer_provider_from_env()
    assert provider is not None
    with provider.get_tracer("test").start_as_current_span("tools/call list_phone_numbers"):
        pass
    provider.shutdown()

    printed = capsys.readouterr()
    assert printed.out == "", "on stdio, stdout is the protocol"
    assert "tools/call list_phone_numbers" in printed.err
    assert "anyreach-test" in printed.err


async def test_otlp_exports_to_the_endpoint_the_standard_variable_names(otel_env: pytest.MonkeyPatch) -> None:
    received: list[str] = []

    async def collector(request: Request) -> Response:
        received.append(request.headers.get("content-type", ""))
        await request.body()
        return Response(status_code=200)

    port = free_port()
    otel_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    provider = tracer_provider_from_env()
    assert provider is not None
    async with serving(Starlette(routes=[Route("/v1/traces", collector, methods=["POST"])]), port):
        with provider.get_tracer("test").start_as_current_span("tools/call list_phone_numbers"):
            pass
        with anyio.fail_after(30):
            assert await anyio.to_thread.run_sync(provider.force_flush)
        await anyio.to_thread.run_sync(provider.shutdown)

    assert received == ["application/x-protobuf"]
