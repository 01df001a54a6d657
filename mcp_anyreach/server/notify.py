"""Telling clients that resources changed, in both protocol eras."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError

INVENTORY_URI = "anyreach://inventory"
NUMBERS_URI = "anyreach://phone-numbers"
TRUNKS_URI = "anyreach://trunks"
ROUTING_URI = "anyreach://inbound-routing-config"


def number_uri(phone_number: str) -> str:
    return f"{NUMBERS_URI}/{phone_number}"


def trunk_uri(trunk_id: str) -> str:
    return f"{TRUNKS_URI}/{trunk_id}"


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
