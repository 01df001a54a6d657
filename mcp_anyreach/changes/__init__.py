"""Change sets: one preview, one confirmation, many changes. Knows nothing of MCP.

`operations.py` and `desired.py` turn a request (a list of jobs, or what the account should look like)
into targets; `planner.py` turns targets into ordered steps with their impact, each step one change of
`actions/` (a class per kind of API call, a module per resource: its arguments, its detail line, its tool,
its call);
`executor.py` runs them; `store.py` keeps plans between planning and applying; `undo.py` records what an
applied change replaced (`undo_store.py` keeps the records), and `undo_plan.py` turns a record into its inverse;
`engine.py` is what the tools and the CLI call; `results.py` holds what they return. Nothing is imported here:
the server loads the engine on first use.
"""
