"""Lean tool schemas: what a model needs to call a tool right, and nothing it pays tokens for in vain.

Pydantic's schemas carry a title for every property, `"default": null` and `anyOf [X, null]` for every
optional argument, and our size caps (which exist to refuse hostile input, not to guide a model). A host
puts all of that in the model's context in every conversation. Validation still runs against the full
pydantic model, so an oversized or null argument is still refused, with a message saying why.
"""

from __future__ import annotations

from typing import Any, cast

SIZE_CAPS = frozenset({"maxLength", "minLength", "maxItems", "maxProperties"})
# Results come back as structuredContent validated against the tool's pydantic return type; the advertised
# outputSchema says only that it is an object, because hosts pay for every listed schema in every session.
OUTPUT_SCHEMA: dict[str, Any] = {"type": "object"}


def lean(schema: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], _lean(schema))


def _lean(node: object) -> object:
    if isinstance(node, list):
        return [_lean(item) for item in cast(list[object], node)]
    if not isinstance(node, dict):
        return node
    out: dict[str, object] = {}
    for key, value in cast(dict[str, object], node).items():
        if (key in ("title", "format") and isinstance(value, str)) or key in SIZE_CAPS or _implied(key, value):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _lean(sub) for name, sub in cast(dict[str, object], value).items()}
        else:
            out[key] = _lean(value)
    return _without_null_branch(out)


def _implied(key: str, value: object) -> bool:
    # Defaults a model assumes anyway (null, false, empty), JSON Schema's own, and the password hint.
    if key == "default":
        return value is None or value is False or value in ([], {})
    return key in ("additionalProperties", "writeOnly") and value is True


def _without_null_branch(node: dict[str, object]) -> dict[str, object]:
    """`anyOf [X, null]` on an optional argument becomes X: omitting the argument already means null."""
    branches = node.get("anyOf")
    if not isinstance(branches, list):
        return node
    kept = [b for b in cast(list[object], branches) if b != {"type": "null"}]
    if len(kept) != 1 or len(kept) == len(cast(list[object], branches)) or not isinstance(kept[0], dict):
        return node
    rest = {key: value for key, value in node.items() if key != "anyOf"}
    return {**cast(dict[str, object], kept[0]), **rest}
