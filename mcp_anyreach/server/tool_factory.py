"""Turns a tool function and its policy row into the SDK's Tool, shaped for a model's context.

A host waits for start-up on every launch, and deriving 18 input schemas with pydantic was most of ours.
So the published input schemas ship with the package (`tool_schemas.json`, derived from these same
signatures; a test fails when they drift), and each argument model builds its validator on first call.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, ConfigDict, create_model

from mcp_anyreach.server.registry import ToolSpec
from mcp_anyreach.server.schema import OUTPUT_SCHEMA, lean
from mcp_anyreach.server.sdk import (
    ArgModelBase,
    FuncMetadata,
    build_resolver_plans,
    find_context_parameter,
    find_resolved_parameters,
)
from mcp_anyreach.server.telemetry import record_outcome

PUBLISHED_SCHEMAS = Path(__file__).with_name("tool_schemas.json")


class _Arguments(ArgModelBase):
    # A rejected argument may be a SIP password: the error the model reads names the field, never the value.
    model_config = ConfigDict(arbitrary_types_allowed=True, hide_input_in_errors=True, defer_build=True)


def published_schemas() -> dict[str, dict[str, Any]]:
    try:
        return json.loads(PUBLISHED_SCHEMAS.read_text(encoding="utf-8"))
    except FileNotFoundError:  # a packaging mistake costs start-up time, never a tool
        return {}


def make_tool(
    fn: Callable[..., Awaitable[BaseModel]], spec: ToolSpec, input_schema: dict[str, Any] | None = None
) -> Tool:
    """The SDK's Tool, with a lean input schema and structured output validated against the return model.

    `input_schema` is the published one; without it, it is derived from the signature.
    """
    signature = inspect.signature(fn, eval_str=True)
    returns = signature.return_annotation
    if not (isinstance(returns, type) and issubclass(returns, BaseModel)):
        raise TypeError(f"tool {spec.name} must return a pydantic model, not {returns!r}")
    gates = find_resolved_parameters(fn)
    context = find_context_parameter(fn)
    arguments: dict[str, Any] = {
        name: (param.annotation, ... if param.default is param.empty else param.default)
        for name, param in signature.parameters.items()
        if name not in gates and name != context
    }
    _check_gate(spec, gates, set(arguments))
    plans = build_resolver_plans(gates, set(arguments))
    if reserved := sorted(name for name in arguments if name.startswith("_") or name in dir(BaseModel)):
        raise TypeError(f"tool {spec.name}: rename the arguments {reserved}, pydantic models reserve those names")
    arg_model = create_model(f"{spec.name}_arguments", __base__=_Arguments, **arguments)
    return Tool(
        fn=_compact(fn),
        name=spec.name,
        title=spec.title,
        description=inspect.getdoc(fn) or "",
        parameters=input_schema if input_schema is not None else lean(arg_model.model_json_schema(by_alias=True)),
        fn_metadata=FuncMetadata(arg_model=arg_model, output_model=returns, output_schema=OUTPUT_SCHEMA),
        is_async=True,
        context_kwarg=context,
        resolved_params=dict(gates),
        resolver_plans=plans,
        annotations=spec.annotations,
    )


def _check_gate(spec: ToolSpec, gates: dict[str, tuple[Resolve, bool]], arguments: set[str]) -> None:
    """The policy table says which tools are gated; a tool must agree, and its gate must see every argument.

    A token binds the arguments its gate receives, and the audit log and the re-check after a human's yes
    use the same ones: an argument the gate missed could be changed after the preview unnoticed. The
    gate's resolvers take arguments by name; together they must take exactly the tool's arguments.
    """
    if bool(gates) != spec.gated:
        raise TypeError(f"tool {spec.name}: the registry says gated={spec.gated}, its signature disagrees")
    seen: set[str] = set()
    pending = [marker.fn for marker, _ in gates.values()]
    while pending:
        resolver = pending.pop()
        hints = getattr(resolver, "__annotations__", {})
        for name in inspect.signature(resolver).parameters:
            marker = next((m for m in getattr(hints.get(name), "__metadata__", ()) if isinstance(m, Resolve)), None)
            if marker is not None:
                pending.append(marker.fn)
            elif hints.get(name) is not Context:
                seen.add(name)
    if gates and seen != arguments:
        raise TypeError(f"tool {spec.name}: its gate sees {sorted(seen)}, the tool takes {sorted(arguments)}")


def _compact(fn: Callable[..., Awaitable[BaseModel]]) -> Callable[..., Awaitable[CallToolResult]]:
    """The result as structuredContent plus compact JSON text without nulls.

    Hosts often hand the model the text block: the SDK's default indents it, which costs about a third
    more tokens on every call for nothing.
    """

    @functools.wraps(fn)
    async def call(*args: Any, **kwargs: Any) -> CallToolResult:
        result = await fn(*args, **kwargs)
        if isinstance(status := getattr(result, "status", None), str):  # a gated tool's outcome
            record_outcome(status)
        return CallToolResult(
            content=[TextContent(type="text", text=result.model_dump_json(exclude_none=True))],
            structured_content=result.model_dump(mode="json"),
        )

    return call
