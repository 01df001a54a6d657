"""MCP-free knowledge of numbers, trunks, agents and routing: validated arguments, the records tools show,
summaries, refusals and the rules a preview warns about. Used by the server and the command line alike."""
