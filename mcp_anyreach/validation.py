"""One way to turn a pydantic ValidationError into text a person or a model can act on.

Every problem reads `path: message`, the path written as it would be in code (`numbers.items[0].trunk`,
`operations[1].phone_numbers`) and the message without pydantic's "Value error, " boilerplate. The settings,
the API client's reading of answers, change-set documents and operations, and tool arguments all use it.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

__all__ = ["Location", "describe"]

Location = tuple[int | str, ...]


def describe(
    error: ValidationError,
    *,
    whole: str = "value",
    separator: str = "; ",
    limit: int | None = None,
    example: Callable[[Location], str] | None = None,
) -> str:
    """Each problem as `path: message`, joined by `separator`.

    `whole` names the value validated: a problem with the value itself is put under it, and so is an
    index into it when it is a list (`operations[0]`). With `limit`, the problems past it are counted, never
    dropped unsaid. `example`, given a problem's location, adds "; for example path=<value>".
    """
    problems = error.errors(include_url=False, include_input=False)
    lines: list[str] = []
    for problem in problems[:limit]:
        path = _path(problem["loc"], whole)
        line = f"{path}: {problem['msg'].removeprefix('Value error, ')}"
        lines.append(line if example is None else f"{line}; for example {path}={example(problem['loc'])}")
    if (unsaid := len(problems) - len(lines)) > 0:
        lines.append(f"and {unsaid} more problem{'s' if unsaid > 1 else ''}")
    return separator.join(lines)


def _path(loc: Location, whole: str) -> str:
    """`loc` as a path: names joined by dots, list indexes in brackets; `whole` when `loc` is empty."""
    path = whole if loc and isinstance(loc[0], int) else ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or whole
