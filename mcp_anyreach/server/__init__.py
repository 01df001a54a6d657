"""The MCP layer: tools, resources, prompts and the safety policy, over the typed API client."""

from mcp_anyreach.server.app import build_server

__all__ = ["build_server"]
