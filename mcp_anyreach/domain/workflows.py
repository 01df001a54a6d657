"""What can be known about a routing config's workflow without running it.

No documented endpoint reads or lists workflows, and running one has effects (API-CONTRACT.md, Workflows),
so a `workflow_id` is never verified. Of an inline `workflow_definition` the documentation gives only the
output a workflow returns (`reject`, `agent_id`, `version`, `initial_context`, `custom_metadata`): every
object under an `output` key is checked against that, and the rest of the definition is left unchecked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.text import shown

OUTPUT_FIELDS: dict[str, tuple[type, ...]] = {
    "reject": (bool,),
    "agent_id": (str,),
    "version": (int, float),
    "initial_context": (str,),
    "custom_metadata": (dict,),
}
_TYPE_NAMES = {"reject": "a boolean", "version": "a number", "custom_metadata": "an object"}
DOCUMENTED = ", ".join(OUTPUT_FIELDS)


def _outputs(value: object) -> Iterator[object]:
    if isinstance(value, Mapping):
        for key, inner in cast(Mapping[str, object], value).items():
            if key == "output":
                yield inner
            yield from _outputs(inner)
    elif isinstance(value, list):
        for inner in cast(list[object], value):
            yield from _outputs(inner)


def check_definition(definition: Mapping[str, Any]) -> bool:
    """True when the definition declares outputs and each one is documented; False when it declares none.

    Raise Refusal naming the field when an output is not one the documentation gives, or has the wrong type.
    """
    outputs = list(_outputs(definition))
    for output in outputs:
        if not isinstance(output, Mapping):
            raise Refusal(f"workflow_definition: each 'output' must be an object with the fields {DOCUMENTED}.")
        for name, value in cast(Mapping[str, object], output).items():
            kinds = OUTPUT_FIELDS.get(name)
            if kinds is None:
                raise Refusal(
                    f"workflow_definition: the output field {shown(name)!r} is not documented; "
                    f"a workflow returns only {DOCUMENTED}."
                )
            wrong_bool = isinstance(value, bool) and bool not in kinds
            if value is not None and (wrong_bool or not isinstance(value, kinds)):
                raise Refusal(
                    f"workflow_definition: the output field {name!r} must be {_TYPE_NAMES.get(name, 'a string')}."
                )
    return bool(outputs)


def unverified(config: Mapping[str, Any]) -> str | None:
    """Why the config's workflow cannot be trusted to run, or None when its outputs were checked."""
    if config.get("workflow_id"):
        return f"workflow {shown(config['workflow_id'])} could not be verified (no Anyreach API lists workflows)"
    definition = config.get("workflow_definition")
    if isinstance(definition, Mapping):
        try:
            if check_definition(cast(Mapping[str, object], definition)):
                return None
        except Refusal:
            return "the inline workflow's output fields are not the documented ones"
    return "the inline workflow's shape is not documented, so it was not checked (only its output fields can be)"


def no_fallback_warning(config: Mapping[str, Any]) -> str | None:
    """The WARNING for an enabled config whose workflow is unverified and which has no fallback agent."""
    reason = unverified(config)
    if reason is None or config.get("enabled") is False or config.get("fallback_agent_id"):
        return None
    return (
        f"WARNING: {reason}, and there is no fallback_agent_id: if it is wrong or fails, every inbound call is "
        "disconnected. Set fallback_agent_id (list_agents)."
    )
