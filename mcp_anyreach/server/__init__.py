"""The MCP layer: `app.py` builds the server from the registry's rows (`registry.py`), whose tools
(`tools/`) are thin adapters that go through the gate (`gate/`: previews, confirmation tokens, the audit
log) to the engines below, which know nothing of MCP (`changes/`, `reports/`, `domain/`, the `api/` client).
HTTP transports, their limits and OAuth are in `http/`. docs/architecture.md draws the layers.

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
