"""MCP-free read-only reports over a whole account: the audit inventory, who answers a number, and what a
change left behind."""
