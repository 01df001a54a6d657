"""mcp-anyreach: an MCP server for Anyreach telephony."""

__version__ = "0.1.0"
DEFAULT_BASE_URL = "https://api.anyreach.ai"
