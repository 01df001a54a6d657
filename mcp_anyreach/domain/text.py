"""Text that reaches a person: what arguments may contain, and how API data is shown in a preview.

A confirmation is only as good as what the human reads. Control characters, ANSI escapes and bidi
overrides can make a summary say something other than what will run (U+202E turns
"+14155550100" around on screen; ESC sequences can hide a line in a terminal; U+2028 starts a new
paragraph that looks like the server's own), and zero-width characters make two names look equal.
Arguments refuse them; API data is escaped before it is shown, and a name that only identifies
something beside its id is clipped, saying so, so that an API cannot flood a confirmation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# Controls (C0, DEL, C1: ESC starts ANSI escapes), format characters (bidi overrides, zero-width marks),
# line and paragraph separators, surrogates, private-use and unassigned code points: none shows as itself.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
NAME_CHARS = 200
"""A name the API gives only to identify something shown beside its id is clipped to this many characters."""


def _hidden(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE


def single_line(value: str) -> str:
    """Names, usernames and header values: printable text on one line, nothing hidden."""
    if any(_hidden(c) for c in value):
        raise ValueError(
            "control characters, line breaks, bidi overrides, zero-width and other invisible characters are not "
            "allowed here"
        )
    return value


def identifier(value: str) -> str:
    """Ids of trunks, agents and workflows: letters, digits and _ . : - only."""
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"{shown(value[:40])!r} is not an id: use letters, digits and _ . : - (as list_ tools show)")
    return value


def shown(value: object) -> str:
    """A value from the API as one line of text that hides nothing: hidden characters become \\uXXXX."""
    return "".join(f"\\u{ord(c):04x}" if _hidden(c) else c for c in str(value))


def clipped(value: str) -> str:
    """A name from the API for a result: at most NAME_CHARS characters, and a note when it was longer."""
    if len(value) <= NAME_CHARS:
        return value
    return f"{value[:NAME_CHARS]}... [clipped: {len(value):,} characters]"


def named(value: object) -> str:
    """A name from the API for a preview: clipped like `clipped`, then shown like `shown`."""
    return shown(clipped(str(value)))


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
