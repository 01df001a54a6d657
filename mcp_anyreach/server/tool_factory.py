"""Turns a tool function and its policy row into the SDK's Tool, shaped for a model's context."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver.resolve import find_resolved_parameters
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

from mcp_anyreach.server.registry import ToolSpec
from mcp_anyreach.server.schema import OUTPUT_SCHEMA, lean


def make_tool(fn: Callable[..., Awaitable[BaseModel]], spec: ToolSpec) -> Tool:
    """The SDK's Tool, with a lean input schema and structured output validated against the return model.

    Deriving an output schema we do not publish costs half of start-up, so the SDK is told the tool is
    unstructured and then given the model and the published schema (its documented live fields).
    """
    signature = inspect.signature(fn, eval_str=True)
    returns = signature.return_annotation
    if not (isinstance(returns, type) and issubclass(returns, BaseModel)):
        raise TypeError(f"tool {spec.name} must return a pydantic model, not {returns!r}")
    _check_gate(fn, spec, signature)
    tool = Tool.from_function(
        _compact(fn), name=spec.name, title=spec.title, annotations=spec.annotations, structured_output=False
    )
    tool.parameters = lean(tool.parameters)
    # A rejected argument may be a SIP password: the error the model reads names the field, never the value.
    tool.fn_metadata.arg_model.model_config["hide_input_in_errors"] = True
    tool.fn_metadata.arg_model.model_rebuild(force=True)
    tool.fn_metadata.output_model = returns
    tool.fn_metadata.output_schema = OUTPUT_SCHEMA
    return tool


def _check_gate(fn: Callable[..., Any], spec: ToolSpec, signature: inspect.Signature) -> None:
    """The policy table says which tools are gated; a tool must agree, and its gate must see every argument.

    A token binds the arguments its gate receives: an argument the gate missed could be changed after the
    preview without invalidating the token.
    """
    gates = find_resolved_parameters(fn)
    if bool(gates) != spec.gated:
        raise TypeError(f"tool {spec.name}: the registry says gated={spec.gated}, its signature disagrees")
    arguments = set(signature.parameters) - set(gates) - {"ctx"}
    for marker, _ in gates.values():
        seen = set(inspect.signature(marker.fn).parameters) - {"ctx"}
        if seen != arguments:
            raise TypeError(f"tool {spec.name}: its gate sees {sorted(seen)}, the tool takes {sorted(arguments)}")


def _compact(fn: Callable[..., Awaitable[BaseModel]]) -> Callable[..., Awaitable[CallToolResult]]:
    """The result as structuredContent plus compact JSON text without nulls.

    Hosts often hand the model the text block: the SDK's default indents it, which costs about a third
    more tokens on every call for nothing.
    """

    @functools.wraps(fn)
    async def call(*args: Any, **kwargs: Any) -> CallToolResult:
        result = await fn(*args, **kwargs)
        text = json.dumps(result.model_dump(mode="json", exclude_none=True), separators=(",", ":"), ensure_ascii=False)
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=result.model_dump(mode="json")
        )

    return call
