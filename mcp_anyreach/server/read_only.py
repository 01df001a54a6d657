"""A write tool called by name on a read-only server, or by a read-scope caller, is refused as read-only.

Those tools are not listed, so the SDK would answer "Unknown tool": a model reads that as a typo and
guesses again, where the truth is that nothing can change through this server (or for this caller).
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import CallToolResult, TextContent

from mcp_anyreach.server.registry import SPEC_BY_NAME


def is_write_tool(name: object) -> bool:
    spec = SPEC_BY_NAME.get(name) if isinstance(name, str) else None
    return spec is not None and spec.kind != "read"


def called_tool(ctx: ServerRequestContext[Any, Any]) -> object:
    return (ctx.params or {}).get("name") if ctx.method == "tools/call" else None


class ReadOnlyServer:
    """Server middleware of a `--read-only` server: a write tool's call is a tool error saying so."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        name = called_tool(ctx)
        if not is_write_tool(name):
            return await call_next(ctx)
        message = (
            f"This server is read-only (started with --read-only), so {name} is not offered and nothing was done. "
            "Tell the user; a change needs a server started without --read-only."
        )
        return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)
