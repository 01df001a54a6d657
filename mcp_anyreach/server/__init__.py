"""The MCP layer. It reads top to bottom as: tools (thin adapters, `tools/`) → the gate (`gate.py`:
preview, confirmation, audit, notification) → engines that know nothing of MCP (`inventory.py`,
`summaries.py`, `trunk_changes.py`, `trunk_merge.py`, `purchases.py`, `networks.py`, `text.py`, `errors.py`) →
the API client.

`build_server` is imported on first use, so that the command line can import the engines without the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp_anyreach.server.app import build_server

__all__ = ["build_server"]


def __getattr__(name: str) -> object:
    if name == "build_server":
        from mcp_anyreach.server.app import build_server

        return build_server
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
