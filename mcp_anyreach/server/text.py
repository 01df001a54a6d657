"""Text that reaches a person: what arguments may contain, and how API data is shown in a preview.

A confirmation is only as good as what the human reads. Control characters, ANSI escapes and bidi
overrides can make a summary say something other than what will run (U+202E turns
"+14155550100" around on screen; ESC sequences can hide a line in a terminal), and zero-width
characters make two names look equal. Arguments refuse them; API data is escaped before it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_BIDI = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
_ZERO_WIDTH = frozenset({0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF})
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


def _hidden(code: int) -> bool:
    """C0 and C1 controls (ESC starts ANSI escapes), DEL, bidi controls, zero-width marks, surrogates."""
    return code < 32 or 0x7F <= code <= 0x9F or code in _BIDI or code in _ZERO_WIDTH or 0xD800 <= code <= 0xDFFF


def single_line(value: str) -> str:
    """Names, usernames and header values: printable text on one line, nothing hidden."""
    if any(_hidden(ord(c)) for c in value):
        raise ValueError(
            "control characters, line breaks, bidi overrides and zero-width characters are not allowed here"
        )
    return value


def identifier(value: str) -> str:
    """Ids of trunks, agents and workflows: letters, digits and _ . : - only."""
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"{shown(value[:40])!r} is not an id: use letters, digits and _ . : - (as list_ tools show)")
    return value


def shown(value: object) -> str:
    """A value from the API as one line of text that hides nothing: hidden characters become \\uXXXX."""
    return "".join(f"\\u{ord(c):04x}" if _hidden(ord(c)) else c for c in str(value))


def neutral(text: str) -> str:
    """A whole summary: like `shown`, but the line breaks the server itself wrote stay."""
    return "\n".join(shown(line) for line in text.split("\n"))


def listed(values: Sequence[str], limit: int = 10) -> str:
    """The first `limit` values, and how many more: `a, b and 3 more`."""
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return ", ".join(values[:limit]) + more


def counted(count: int, one: str, many: str | None = None) -> str:
    """`1 step`, `3 steps`; `many` where the plural is not `one` + s (`1 number is`, `2 numbers are`)."""
    return f"{count} {one if count == 1 else many or one + 's'}"
