"""The floor: a bare mcp `MCPServer` with one trivial tool on stdio, for cold_start.py and call_overhead.py."""

from mcp.server import MCPServer

server = MCPServer("bare")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


if __name__ == "__main__":
    server.run()
