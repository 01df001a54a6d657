"""Telling clients that resources changed, in both protocol eras."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextvars import ContextVar

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError

from mcp_anyreach.domain.uris import INVENTORY_URI, organization_uri

SERVED_UNDER: ContextVar[str | None] = ContextVar("mcp_anyreach_served_under", default=None)
"""The organization id whose resources live under anyreach://organizations/<id>/ (a server of several)."""


async def notify_changed(ctx: Context, uris: Sequence[str]) -> None:
    """Resource notifications in both protocol eras: the subscription bus (modern) and the session (legacy)."""
    if not uris:
        return
    org_id = SERVED_UNDER.get()
    everything = [uri if org_id is None else organization_uri(org_id, uri) for uri in (INVENTORY_URI, *uris)]
    await ctx.notify_resources_changed()
    for uri in everything:
        await ctx.notify_resource_updated(uri)
    # A modern or stateless connection has no back channel; the bus above already served it.
    with contextlib.suppress(MCPError, RuntimeError):
        await ctx.session.send_resource_list_changed()
        for uri in everything:
            await ctx.session.send_resource_updated(uri)
