"""Every attempted write, as JSON lines: to `--audit-log` when given, and to the log at INFO.

It fails closed: `check()` runs at start-up, and a write's intent ("attempted") must be appended before
the API is called, or the write is not attempted. Its outcome follows; if that line cannot be written the
change has still happened, so the failure is logged loudly and the caller is not told the write failed
(a retry would repeat it). `attempted()` writes that sequence for every write, the gate's and the command
line's `apply` alike.

Each line names the organization, the caller, and (for a write) how it was approved: `approval` is
"elicitation" (a human's yes, with `preview`: the fingerprint of what they were shown, whose first 8
characters their question ended with), "token" (with `preview`: the preview the token was minted for),
"no_confirm", "auto_approve" or "terminal" (the command line's `apply`), or "ungated". A change set's lines carry
its `plan_id`. `confirmation` is the channel a gated call used (None: no gate), kept as it was. The "done" line of
a write that can be undone carries the `undo_id` its outcome returned (`note_undo`). A write cancelled part-way (a
change set stops between steps) ends with a "cancelled: <what ran>" line (`cancelled`) under its call id.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, cast
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from mcp_anyreach.api import AnyreachClient

logger = logging.getLogger("mcp_anyreach.audit")
REDACTED = "[redacted]"
Opener = Callable[[Path], IO[str]]
WRITE_OUTCOMES = ("attempted", "done", "failed")
"""What a write's own lines say (the last with ": <cause>"); every other line is about its gate."""
CANCELLED = "cancelled"
"""How a line about a gate's question dismissed begins, and the outcome line of a write cancelled part-way, which
carries the write's call id."""
_running: ContextVar[Provenance | None] = ContextVar("mcp_anyreach_running_write", default=None)
"""The write running now (its Attempt's lines), for the line that says it was cancelled."""
_undo_id: ContextVar[str | None] = ContextVar("mcp_anyreach_undo_id", default=None)
"""The undo id of the write running now, for its "done" line."""


def note_undo(undo_id: str) -> None:
    """Name the undo record of the write running now in its "done" line."""
    _undo_id.set(undo_id)


class AuditUnavailable(Exception):
    """The audit log cannot be appended to; the message is the operating system's reason."""


def _append(path: Path) -> IO[str]:
    return path.open("a", encoding="utf-8")


class AuditLog:
    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        opener: Opener = _append,
        caller: Callable[[], str | None] = lambda: None,
        unnamed: str = "stdio",
        organization: Callable[[], str | None] = lambda: None,
    ) -> None:
        """`caller` names who is making the current request (the signed-in user), for every line; without one, a
        line says the session it came from, or else `unnamed` ("stdio", "http", "cli"). `organization` names the
        organization the writes act in (organization_of)."""
        self._path = path
        self._caller = caller
        self._unnamed = unnamed
        self._organization = organization
        self._clock = clock
        self._open = opener

    def check(self) -> None:
        """Raise AuditUnavailable unless the log file can be appended to (created if missing)."""
        if self._path is None:
            return
        try:
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.close(fd)
        except OSError as exc:
            raise AuditUnavailable(f"{self._path}: {exc.strerror or exc}") from exc

    def attempted(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        via: str | None,
        cause: Callable[[Exception], str],
        preview: str | None = None,
        session: str | None = None,
        approval: str | None = None,
    ) -> Attempt:
        """Record the intent to run `tool`, and return the Attempt to run it in: `with` it around the write.
        `approval` is how it was approved when not by its own `via` (a step of a change set: the plan's approval).

        Raises AuditUnavailable when the intent cannot be recorded: then the write must not be attempted.
        """
        line = Provenance(approval or via or "ungated", preview, session, call=secrets.token_hex(4))
        self.record(tool, arguments, outcome="attempted", via=via, required=True, provenance=line)
        return Attempt(self, tool, arguments, via=via, provenance=line, cause=cause)

    def cancelled(self, tool: str, arguments: Mapping[str, Any], what_ran: str, *, via: str | None) -> None:
        """Record that the write running now was cancelled after `what_ran`: its Attempt cannot, as a cancellation
        is no failure. Called inside that Attempt, the line carries its call id, approval and preview."""
        outcome = f"{CANCELLED}: {what_ran}"
        self.record(tool, arguments, outcome=outcome, via=via, provenance=_running.get())

    def record(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        outcome: str,
        via: str | None,
        call: str | None = None,
        required: bool = False,
        preview: str | None = None,
        session: str | None = None,
        provenance: Provenance | None = None,
        undo_id: str | None = None,
    ) -> None:
        """Append one line; `call` pairs a write's "attempted" line with its outcome. `preview` is the fingerprint of
        the preview a token is minted for or a human is asked about; `session` the client connection without sign-in.

        With `required`, raise AuditUnavailable when the line cannot be written.
        """
        seen = provenance or Provenance(via or "ungated", preview, session, call)
        entry: dict[str, Any] = {
            "time": self._clock().isoformat().replace("+00:00", "Z"),
            "tool": tool,
            "call": seen.call,
            "arguments": redact(arguments),
            "outcome": outcome,
            "confirmation": via,
            "caller": self._caller() or (f"session {seen.session}" if seen.session else self._unnamed),
            "organization": self._organization(),
        }
        if outcome.partition(":")[0] in WRITE_OUTCOMES or provenance is not None:
            entry["approval"] = seen.approval
        if seen.preview is not None:
            entry["preview"] = seen.preview
        if isinstance(plan_id := arguments.get("plan_id"), str):
            entry["plan_id"] = plan_id
        if undo_id is not None:
            entry["undo_id"] = undo_id
        line = json.dumps(entry, separators=(",", ":"), default=str)
        logger.info("audit %s", line)
        if self._path is None:
            return
        try:
            with self._open(self._path) as out:
                out.write(line + "\n")
        except OSError as exc:
            reason = f"{self._path}: {exc.strerror or exc}"
            if required:
                raise AuditUnavailable(reason) from exc
            logger.error("AUDIT LOG FAILED, this line is missing from %s: %s (%s)", self._path, line, reason)


@dataclass(frozen=True, slots=True)
class Provenance:
    """What one write's lines share besides the tool and arguments: how it was approved, from which preview, in
    which session, under which call id."""

    approval: str
    preview: str | None = None
    session: str | None = None
    call: str | None = None


class Attempt:
    """A write whose intent is recorded: leaving it records "done", or "failed: <cause>" for an exception,
    which goes on. A cancelled call (not an Exception) leaves its outcome unrecorded: it is not known."""

    def __init__(
        self,
        log: AuditLog,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        via: str | None,
        provenance: Provenance,
        cause: Callable[[Exception], str],
    ) -> None:
        self._log = log
        self._tool = tool
        self._arguments = arguments
        self._via = via
        self._provenance = provenance
        self._cause = cause
        self._undo: Token[str | None] | None = None
        self._within: Token[Provenance | None] | None = None

    def __enter__(self) -> None:
        self._undo = _undo_id.set(None)
        self._within = _running.set(self._provenance)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        undo_id = _undo_id.get()
        if self._undo is not None:
            _undo_id.reset(self._undo)
        if self._within is not None:
            _running.reset(self._within)
        if exc is None:
            outcome = "done"
        elif isinstance(exc, Exception):
            outcome = f"failed: {self._cause(exc)}"
        else:
            return
        self._log.record(
            self._tool, self._arguments, outcome=outcome, via=self._via, provenance=self._provenance, undo_id=undo_id
        )


def organization_of(client: AnyreachClient) -> str:
    """The organization an audit line names: the configured organization id, else the API's host and the
    fingerprint under which this server keeps everything of the key's organization (the shared state's namespace)."""
    if client.org_id:
        return client.org_id
    return f"{urlsplit(client.base_url).hostname} {client.organization}"


def redact(value: Any) -> Any:
    """A JSON-able copy of `value` with every password and secret replaced."""
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_unset=True)
    if isinstance(value, Mapping):
        items = cast(Mapping[object, object], value).items()
        return {str(k): REDACTED if _secret_key(str(k)) and v is not None else redact(v) for k, v in items}
    if isinstance(value, list | tuple):
        return [redact(v) for v in cast(Sequence[object], value)]
    return value


def _secret_key(key: str) -> bool:
    lowered = key.lower()
    return "password" in lowered or "secret" in lowered or lowered == "confirmation_token"
