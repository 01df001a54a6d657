"""Filtering rows by a JSON object column in SQL, so that paging still happens in the database."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, cast

from mcp_anyreach.sandbox.store.paging import Where


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces: the form objects are stored in, so nested values compare as text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def where_json_contains(where: Where, column: str, wanted: Mapping[str, Any]) -> None:
    """Rows whose JSON object in `column` has each top-level key of `wanted` with an equal value.

    `column` is a fixed name from a repository, never input. Values must match in JSON type too (1 is not
    true); a nested object or array equals only the same object or array.
    """
    clause = (
        f"EXISTS (SELECT 1 FROM json_each({column}) AS entry"  # noqa: S608
        " WHERE entry.key = ? AND entry.type = ? AND entry.value IS ?)"
    )
    for key, value in wanted.items():
        where.add(clause, key, *_json_type_and_value(value))


def _json_type_and_value(value: object) -> tuple[str, object]:
    """The `type` and `value` columns that SQLite's json_each gives for `value`."""
    match value:
        case None:
            return "null", None
        case bool():
            return ("true", 1) if value else ("false", 0)
        case int() if -(2**63) <= value < 2**63:
            return "integer", value
        case int():
            return "integer", _as_sqlite_reads_it(value)
        case float():
            return "real", value
        case str():
            return "text", value
        case list():
            return "array", canonical_json(cast(list[object], value))
        case _:
            return "object", canonical_json(value)


def _as_sqlite_reads_it(huge: int) -> float:
    """SQLite cannot bind an integer beyond 64 bits, and reads one in JSON as an approximate real."""
    try:
        return float(huge)
    except OverflowError:
        return math.inf if huge > 0 else -math.inf
