"""mcp-anyreach: an MCP server for Anyreach telephony."""

__version__ = "0.1.0"
