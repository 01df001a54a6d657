"""Each list's filters, declared once as a TypedDict that its page (`list`) and its walk (`iter`) both take
as `**filters: Unpack[...]`, so the two cannot drift.

A keyword the TypedDict does not declare is a type error for pyright and, as for any keyword-only function,
a TypeError at run time: `**filters` would take anything, so `query` checks the names itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TypedDict, cast

from mcp_anyreach.api._http import Params

__all__ = ["Timestamps", "check_filters", "query"]


class Timestamps(TypedDict, total=False):
    """The creation and update bounds every list of the API accepts (ISO 8601 text or a datetime)."""

    created_after: datetime | str | None
    created_before: datetime | str | None
    updated_after: datetime | str | None
    updated_before: datetime | str | None


def check_filters(declared: type[Mapping[str, object]], filters: Mapping[str, object], method: str) -> None:
    """Raise TypeError for a filter `declared` does not name, worded as Python words an unknown keyword."""
    for name in filters:
        if name not in declared.__annotations__:
            raise TypeError(f"{method}() got an unexpected keyword argument {name!r}")


def query(
    declared: type[Mapping[str, object]],
    filters: Mapping[str, object],
    method: str,
    *,
    limit: int | None,
    cursor: str | None,
) -> Params:
    """The query of one page: every declared filter (None ones are not sent), then `limit` and `cursor`.

    A list's own filters come before the timestamps, so the query string reads as it always has; a mapping
    (an agent's `metadata`) is sent as compact JSON.
    """
    check_filters(declared, filters, method)
    names = sorted(declared.__annotations__, key=lambda name: name in Timestamps.__annotations__)
    return {**{name: _value(filters.get(name)) for name in names}, "limit": limit, "cursor": cursor}


def _value(value: object) -> str | int | bool | datetime | None:
    if isinstance(value, Mapping):
        return json.dumps(dict(cast(Mapping[str, object], value)), separators=(",", ":"))
    return cast(str | int | bool | datetime | None, value)
