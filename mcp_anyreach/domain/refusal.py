"""The one error engines raise for what the model can fix; the tool layer turns it into the SDK's ToolError.

Engines (inventory, summaries, the purchase guard, managed-account discovery) know nothing of MCP, so the
command line can use them too; their refusals carry the sentence a model or a person acts on.
"""

from __future__ import annotations


class Refusal(Exception):
    """Nothing was done (or, when the message says so, what happened); the message says what to do next."""
