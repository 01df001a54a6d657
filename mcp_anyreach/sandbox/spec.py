"""The `name=value,name=value` specs of `--faults` and `--behaviour`."""

from __future__ import annotations

from collections.abc import Collection


def parse_spec(spec: str, names: Collection[str]) -> dict[str, str]:
    """Each `name=value` of `spec`, by name; ValueError naming the item that is not one of `names`."""
    values: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, value = (part.strip() for part in item.partition("="))
        if not sep or name not in names:
            raise ValueError(f"{item!r}: expected name=value, the name one of {', '.join(names)}")
        values[name] = value
    return values
