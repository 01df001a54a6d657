"""Serving MCP over HTTP: the transports, their limits, and OAuth sign-in."""
