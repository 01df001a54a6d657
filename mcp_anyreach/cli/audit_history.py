"""`mcp-anyreach audit-log`: who changed this number (or trunk), when, with whose approval, from the JSON-lines file.

A write is its "attempted" line joined to its "done", "failed" or "cancelled: <what ran>" line by the call id
(a change set cancelled between steps); the lines about gates
(a token offered, a yes declined) are not writes and are left out. Writes are shown oldest first, newest last,
across every file given (replicas each write their own). A line that is not an audit line is reported with its
number and skipped. `--organization` keeps the writes of one organization: its id as the lines name it, or a name
ANYREACH_ORG_ID gives it. Exit codes are exit_codes.py's: 0 whether or not a write was found, 1 a file that cannot
be read.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from mcp_anyreach.cli.exit_codes import ExitCode
from mcp_anyreach.cli.organizations import find_organization
from mcp_anyreach.server.gate.audit_log import CANCELLED, WRITE_OUTCOMES
from mcp_anyreach.settings import parse_organizations

APPROVALS = {
    "elicitation": "the user's yes",
    "token": "a confirmation token",
    "no_confirm": "--no-confirm",
    "auto_approve": "--auto-approve",
    "terminal": "a yes on the terminal",
    "ungated": "none (an ungated tool)",
}
NO_OUTCOME = "unknown: no outcome recorded (cancelled, or the server stopped)"
_NOT_A_NUMBER = re.compile(r"[^0-9+]")
_PHONE_TEXT = re.compile(r"\+?[0-9][0-9 ().-]{5,}")


@dataclass
class Write:
    """One write as the log tells it: its attempt, and the outcome joined to it by `call`."""

    time: str
    tool: str
    outcome: str
    call: str | None
    organization: str | None
    caller: str | None
    approval: str
    preview: str | None
    plan_id: str | None
    arguments: Any = field(default_factory=dict[str, Any])


@dataclass
class History:
    writes: list[Write]
    skipped: list[str]
    """"PATH:LINE: why", for each line that is not an audit line."""


class Unreadable(Exception):
    """An audit file could not be read; the message names it and the operating system's reason."""


def read_history(paths: Sequence[Path]) -> History:
    """Every write in `paths`, oldest first. Raises Unreadable for a file that cannot be read."""
    writes: dict[tuple[str, str], Write] = {}
    order: list[Write] = []
    skipped: list[str] = []
    for path in paths:
        for entry in _entries(path, skipped):
            outcome = entry["outcome"]
            call = _text(entry.get("call"))
            key = (str(path), call) if call else None
            kind = outcome.partition(":")[0]
            if kind not in WRITE_OUTCOMES and not (kind == CANCELLED and key in writes):
                continue
            if outcome != "attempted" and key is not None and key in writes:
                writes.pop(key).outcome = outcome
                continue
            write = _write(entry, NO_OUTCOME if outcome == "attempted" else outcome)
            if outcome == "attempted" and key is not None:
                writes[key] = write
            order.append(write)
    return History(sorted(order, key=lambda write: write.time), skipped)


def touches(write: Write, *, number: str | None, trunk: str | None) -> bool:
    """Whether `write` names this number and this trunk (either left out: any) anywhere in its arguments."""
    values = list(_strings(write.arguments))
    if number is not None and not any(_same_number(value, number) for value in values):
        return False
    return trunk is None or trunk in values


def organization_ids(wanted: str, configured: str | None) -> frozenset[str]:
    """What audit lines call the organization `wanted`: itself, and its id where ANYREACH_ORG_ID (`configured`)
    gives it as a name (a list that does not parse names nothing more)."""
    try:
        found = find_organization(parse_organizations(configured), wanted)
    except ValueError:
        found = None
    return frozenset({wanted} if found is None else {wanted, found.id})


def run_audit_log(
    paths: Sequence[Path],
    *,
    number: str | None,
    trunk: str | None,
    as_json: bool,
    out: IO[str],
    err: IO[str],
    organization: str | None = None,
) -> int:
    try:
        history = read_history(paths)
    except Unreadable as exc:
        print(f"mcp-anyreach audit-log: cannot read {exc}", file=err)
        return ExitCode.FAILURE
    for problem in history.skipped:
        print(f"mcp-anyreach audit-log: skipped {problem}", file=err)
    found = [write for write in history.writes if touches(write, number=number, trunk=trunk)]
    if organization is not None:
        ids = organization_ids(organization, os.environ.get("ANYREACH_ORG_ID"))
        found = [write for write in found if write.organization in ids]
    if as_json:
        out.write(json.dumps({"writes": [asdict(write) for write in found], "skipped": history.skipped}, indent=2))
        out.write("\n")
    elif not found:
        within = f" in organization {organization}" if organization else ""
        out.write(f"No write{_about(number, trunk)}{within} in {', '.join(map(str, paths))}.\n")
    for write in [] if as_json else found:
        out.write(describe(write) + "\n")
    return ExitCode.SUCCESS


def describe(write: Write) -> str:
    """One line: time, tool and subject, outcome, organization, caller, approval (and the plan)."""
    approval = APPROVALS.get(write.approval, write.approval)
    if write.preview:
        approval += f" to preview {write.preview[:8]}"
    plan = f" (plan {write.plan_id})" if write.plan_id else ""
    return (
        f"{write.time}  {write.tool}{_subject(write.arguments)}  {write.outcome}  "
        f"organization {write.organization or '-'}  caller {write.caller or '-'}  approved by {approval}{plan}"
    )


def _entries(path: Path, skipped: list[str]) -> Iterable[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    skipped.append(f"{path}:{number}: not JSON")
                    continue
                if not isinstance(entry, dict) or not all(
                    isinstance(cast(dict[str, Any], entry).get(key), str) for key in ("time", "tool", "outcome")
                ):
                    skipped.append(f"{path}:{number}: not an audit line (no time, tool and outcome)")
                    continue
                yield cast(dict[str, Any], entry)
    except OSError as exc:
        raise Unreadable(f"{path}: {exc.strerror or exc}") from None


def _write(entry: dict[str, Any], outcome: str) -> Write:
    # Lines written before `approval` existed say only the gate's channel, or nothing for an ungated tool.
    approval = _text(entry.get("approval")) or _text(entry.get("confirmation")) or "ungated"
    return Write(
        time=entry["time"],
        tool=entry["tool"],
        outcome=outcome,
        call=_text(entry.get("call")),
        organization=_text(entry.get("organization")),
        caller=_text(entry.get("caller")),
        approval=approval,
        preview=_text(entry.get("preview")),
        plan_id=_text(entry.get("plan_id")),
        arguments=entry.get("arguments", {}),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in cast(dict[str, object], value).values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in cast(list[object], value):
            yield from _strings(item)


def _same_number(value: str, number: str) -> bool:
    """The same phone number, however either is spaced or punctuated (+1 415-555-0102 is +14155550102)."""
    if value == number:
        return True
    return bool(_PHONE_TEXT.fullmatch(value)) and _NOT_A_NUMBER.sub("", value) == _NOT_A_NUMBER.sub("", number)


def _subject(arguments: object) -> str:
    if not isinstance(arguments, dict):
        return ""
    named = cast(dict[str, object], arguments)
    for key in ("phone_number", "phone_numbers", "trunk_id", "name", "agent_id"):
        if (value := named.get(key)) is not None:
            shown = ", ".join(map(str, cast(list[object], value))) if isinstance(value, list) else str(value)
            return f" {shown}"
    return ""


def _about(number: str | None, trunk: str | None) -> str:
    named = [f"number {number}"] * bool(number) + [f"trunk {trunk}"] * bool(trunk)
    return f" naming {' and '.join(named)}" if named else ""


def run(
    paths: Sequence[str], *, number: str | None, trunk: str | None, as_json: bool, organization: str | None = None
) -> int:
    return run_audit_log(
        [Path(path) for path in paths],
        number=number,
        trunk=trunk,
        as_json=as_json,
        out=sys.stdout,
        err=sys.stderr,
        organization=organization,
    )
