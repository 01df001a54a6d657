"""A desired-state document's text as data: bounded in size, and read as it is written.

YAML anchors and aliases are refused (a few hundred bytes of aliases expand to gigabytes, and `numbers: *keep`
makes one section silently repeat another), and so are merge keys and duplicate keys (`prune: false` then
`prune: true` would apply a value the reviewer may not have seen). Flow style stays, so JSON text and
`{env: ...}` load as before.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from typing import Any, cast

import yaml
from yaml.constructor import ConstructorError
from yaml.error import Mark
from yaml.nodes import MappingNode, Node

from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.uris import SCHEMA_URI

KIB = 1024
ARGUMENT_MAX_BYTES = 256 * KIB  # plan_changes' desired_state: what a model writes, or a few sections
FILE_MAX_BYTES = 4 * KIB * KIB  # the command line's file: an export of a 10,000-number account is about 2 MB
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _DocumentLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases, merge keys and duplicate keys."""

    def compose_node(self, parent: Node | None, index: object) -> Node | None:  # pyright: ignore[reportIncompatibleMethodOverride]
        event = cast("yaml.Event", self.peek_event())  # pyright: ignore[reportUnknownMemberType]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            problem = "anchors and aliases (&name, *name) are not accepted: write each value out"
            raise ConstructorError(None, None, problem, cast("Mark", event.start_mark))
        return super().compose_node(parent, index)  # type: ignore[no-any-return]

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:  # pyright: ignore[reportIncompatibleMethodOverride]
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                raise ConstructorError(None, None, "merge keys (<<) are not accepted", key_node.start_mark)
            key = self.construct_object(key_node, deep=True)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if key in seen:
                raise ConstructorError(None, None, f"the key {key!r} is given twice", key_node.start_mark)
            seen.add(key)  # pyright: ignore[reportUnknownArgumentType]
        return super().construct_mapping(node, deep=deep)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]


def parse_document(source: str | Mapping[str, Any], *, from_file: bool = False) -> dict[str, Any]:
    """The document as JSON-shaped data, or a Refusal saying what to change. Blocking: run it off the event loop."""
    check_size(len(source.encode(errors="replace")) if isinstance(source, str) else _json_size(source), from_file)
    parsed: object
    if isinstance(source, str):
        try:
            parsed = yaml.load(source, Loader=_DocumentLoader)  # noqa: S506  # a SafeLoader, stricter still
        except yaml.YAMLError as exc:
            raise Refusal(f"The desired state is not valid YAML or JSON: {_first_line(exc)}.") from None
        except RecursionError:
            raise Refusal("The desired state is nested too deeply to be a desired-state document.") from None
    else:
        parsed = dict(source)
    if not isinstance(parsed, dict):
        raise Refusal(f"The desired state must be a mapping with trunks, numbers and/or routing; see {SCHEMA_URI}.")
    try:
        return json.loads(json.dumps(parsed, default=str))
    except (RecursionError, ValueError):
        raise Refusal("The desired state is nested too deeply, or holds values that are not JSON.") from None


def check_size(size: int, from_file: bool) -> None:
    limit = FILE_MAX_BYTES if from_file else ARGUMENT_MAX_BYTES
    if size <= limit:
        return
    split = (
        "split the file by section (trunks, numbers, routing) and plan each"
        if from_file
        else f"plan trunks, numbers and routing in separate calls, or run `mcp-anyreach plan` on a file (up to "
        f"{FILE_MAX_BYTES // (KIB * KIB)} MiB)"
    )
    raise Refusal(
        f"The desired state is {size:,} bytes; at most {limit:,} ({limit // KIB} KiB) are accepted here. Sections "
        f"left out are not touched, so {split}."
    )


def _json_size(source: Mapping[str, Any]) -> int:
    try:
        return len(json.dumps(source, default=str, ensure_ascii=False).encode(errors="replace"))
    except (RecursionError, ValueError):
        raise Refusal("The desired state is nested too deeply, or holds values that are not JSON.") from None


def _first_line(exc: yaml.YAMLError) -> str:
    text = str(exc)
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem and exc.problem_mark is not None:
        text = f"{exc.problem} (line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1})"
    return text.splitlines()[0] if text else type(exc).__name__
