"""Argument errors a model can act on: which argument, what is wrong, and an example of a valid value.

Works from the published JSON schema of the tool, so the example is what the model was shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, cast

from pydantic import ValidationError

from mcp_anyreach.validation import Location, describe

_EXAMPLE_IN_TEXT = re.compile(r"e\.g\. ([^;,)]+)")
_SCALARS = frozenset({"integer", "number", "boolean"})


def argument_problems(tool: str, properties: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    """Unknown arguments, and numbers or booleans sent as strings; None when there are none."""
    valid = ", ".join(properties) or "none"
    unknown = [name for name in given if name not in properties]
    if unknown:
        return (
            f"{tool} has no argument {', '.join(repr(name) for name in unknown)}, so nothing was done. "
            f"Its arguments are: {valid}."
        )
    for name, value in given.items():
        types = _types(properties[name])
        if isinstance(value, str) and types and types <= _SCALARS | {"null"}:
            kind = " or ".join(sorted(types - {"null"}))
            example = _example(name, properties[name])
            return f"{name}: give a JSON {kind}, not the string {value[:20]!r}; for example {name}={example}."
    return None


def invalid_arguments(tool: str, schema: Mapping[str, Any], error: ValidationError) -> str:
    def example(loc: Location) -> str:
        name = str(next((part for part in reversed(loc) if isinstance(part, str)), "value"))
        return _example(name, _field(schema, loc))

    problems = describe(error, whole="arguments", separator="\n- ", example=example)
    return f"Invalid arguments for {tool}, so nothing was done:\n- {problems}"


def _field(schema: Mapping[str, Any], loc: tuple[int | str, ...]) -> Mapping[str, Any]:
    """The schema of the value at `loc`, following properties, array items and $refs into $defs."""
    definitions = cast(Mapping[str, Any], schema.get("$defs", {}))
    node: Mapping[str, Any] = schema
    for part in loc:
        node = _resolved(node, definitions)
        if isinstance(part, int):
            node = cast(Mapping[str, Any], node.get("items", {}))
        else:
            node = cast(Mapping[str, Any], cast(Mapping[str, Any], node.get("properties", {})).get(part, {}))
    return _resolved(node, definitions)


def _resolved(node: Mapping[str, Any], definitions: Mapping[str, Any]) -> Mapping[str, Any]:
    for option in cast(list[Mapping[str, Any]], node.get("anyOf") or [node]):
        if "$ref" in option:
            return cast(Mapping[str, Any], definitions.get(str(option["$ref"]).rsplit("/", 1)[-1], {}))
    return node


def _types(schema: Mapping[str, Any]) -> set[str]:
    options = cast(list[Mapping[str, Any]], schema.get("anyOf") or [schema])
    found: set[str] = set()
    for option in options:
        kind = option.get("type")
        if isinstance(kind, str):
            found.add(kind)
        elif option.get("enum") or "$ref" in option or "properties" in option:
            found.add("other")
    return found


def _example(name: str, schema: Mapping[str, Any]) -> str:
    described = _EXAMPLE_IN_TEXT.search(str(schema.get("description", "")))
    if described:
        return described.group(1).strip()
    options = cast(list[Mapping[str, Any]], schema.get("anyOf") or [schema])
    for option in options:
        if "enum" in option:
            return json.dumps(option["enum"][0])
        match option.get("type"):
            case "integer" | "number":
                return str(option.get("minimum", 1))
            case "boolean":
                return "true"
            case "array":
                return "[...]"
            case "object":
                return "{...}"
            case "string":
                return f'"{name}"' if "id" not in name else '"(from a list_ tool)"'
            case _:
                continue
    return "(see the tool's input schema)"
