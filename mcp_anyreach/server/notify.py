"""Telling clients that resources changed, in both protocol eras."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError

from mcp_anyreach.domain.uris import INVENTORY_URI


async def notify_changed(ctx: Context, uris: Sequence[str]) -> None:
    """Resource notifications in both protocol eras: the subscription bus (modern) and the session (legacy)."""
    if not uris:
        return
    await ctx.notify_resources_changed()
    for uri in (INVENTORY_URI, *uris):
        await ctx.notify_resource_updated(uri)
    # A modern or stateless connection has no back channel; the bus above already served it.
    with contextlib.suppress(MCPError, RuntimeError):
        await ctx.session.send_resource_list_changed()
        for uri in (INVENTORY_URI, *uris):
            await ctx.session.send_resource_updated(uri)
