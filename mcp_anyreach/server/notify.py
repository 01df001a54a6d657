"""Telling clients that resources changed, in both protocol eras."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextvars import ContextVar

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError

from mcp_anyreach.domain.uris import INVENTORY_URI, organization_uri

SERVED_UNDER: ContextVar[tuple[str, ...]] = ContextVar("mcp_anyreach_served_under", default=())
"""On a server of several organizations, the forms its resources are read under: anyreach://organizations/<id>/
and, when it has one, .../<name>/ (URL-encoded), so that a subscriber of either hears of a change."""


async def notify_changed(ctx: Context, uris: Sequence[str]) -> None:
    """Resource notifications in both protocol eras: the subscription bus (modern) and the session (legacy)."""
    if not uris:
        return
    forms = SERVED_UNDER.get()
    changed = (INVENTORY_URI, *uris)
    everything = [organization_uri(form, uri) for form in forms for uri in changed] if forms else list(changed)
    await ctx.notify_resources_changed()
    for uri in everything:
        await ctx.notify_resource_updated(uri)
    # A modern or stateless connection has no back channel; the bus above already served it.
    with contextlib.suppress(MCPError, RuntimeError):
        await ctx.session.send_resource_list_changed()
        for uri in everything:
            await ctx.session.send_resource_updated(uri)
