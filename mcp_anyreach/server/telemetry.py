"""OpenTelemetry traces, off unless the standard `OTEL_*` variables ask for them.

The SDK already puts every MCP request in a span (method, tool name, error status, duration), and the API
client one span per Anyreach request inside it (api/tracing.py); gated tools add their outcome
(`confirmation_required`, `done`, ...). No span carries a tool's arguments. This module only installs an
exporter, and only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER`
is set: `otlp` (HTTP/protobuf, configured by the standard variables) or `console` (on stderr: on stdio,
stdout is the protocol).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

OUTCOME_ATTRIBUTE = "mcp_anyreach.tool.status"


def record_outcome(status: str) -> None:
    """Mark the current MCP request's span with what a tool did (`done`, `confirmation_required`, ...)."""
    trace.get_current_span().set_attribute(OUTCOME_ATTRIBUTE, status)


def wanted_exporters(environ: Mapping[str, str] = os.environ) -> list[str]:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = [name.strip() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if name.strip()]
    if not named and (environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")):
        named = ["otlp"]
    return [name for name in named if name != "none"]


def tracer_provider_from_env() -> TracerProvider | None:
    """A tracer provider exporting where the `OTEL_*` variables say, or None when they ask for nothing.

    The exporters and the resource read the same variables themselves (endpoint, headers, service name).
    """
    environ = os.environ
    exporters = wanted_exporters(environ)
    if not exporters:
        return None
    unknown = sorted(set(exporters) - {"otlp", "console"})
    if unknown:
        raise ValueError(f"OTEL_TRACES_EXPORTER: unsupported {', '.join(unknown)}; use otlp or console")
    if "otlp" in exporters and environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf") != "http/protobuf":
        raise ValueError("OTEL_EXPORTER_OTLP_PROTOCOL: only http/protobuf is supported; unset it or set it so")
    try:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
    except ImportError as exc:
        raise ValueError("OTEL_* variables need the OpenTelemetry SDK: pip install 'mcp-anyreach[team]'") from exc

    named = "OTEL_SERVICE_NAME" in environ or "service.name=" in environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    provider = TracerProvider(resource=Resource.create({} if named else {SERVICE_NAME: "mcp-anyreach"}))
    for name in exporters:
        exporter: SpanExporter
        if name == "console":
            exporter = ConsoleSpanExporter(out=sys.stderr)
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def configure_tracing() -> bool:
    """Install the exporter the environment asks for; False (and nothing installed) when it asks for none."""
    provider = tracer_provider_from_env()
    if provider is None:
        return False
    trace.set_tracer_provider(provider)
    return True
