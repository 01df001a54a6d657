"""Every attempted write, as JSON lines: to `--audit-log` when given, and to the log at INFO.

It fails closed: `check()` runs at start-up, and a write's intent ("attempted") must be appended before
the API is called, or the write is not attempted. Its outcome follows; if that line cannot be written the
change has still happened, so the failure is logged loudly and the caller is not told the write failed
(a retry would repeat it). `attempted()` writes that sequence for every write, the gate's and the command
line's `apply` alike.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, cast

from pydantic import BaseModel, SecretStr

logger = logging.getLogger("mcp_anyreach.audit")
REDACTED = "[redacted]"
Opener = Callable[[Path], IO[str]]


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
    ) -> None:
        """`caller` names who is making the current request (the signed-in user), for every line."""
        self._path = path
        self._caller = caller
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
        self, tool: str, arguments: Mapping[str, Any], *, via: str | None, cause: Callable[[Exception], str]
    ) -> Attempt:
        """Record the intent to run `tool`, and return the Attempt to run it in: `with` it around the write.

        Raises AuditUnavailable when the intent cannot be recorded: then the write must not be attempted.
        """
        call = secrets.token_hex(4)
        self.record(tool, arguments, outcome="attempted", via=via, call=call, required=True)
        return Attempt(self, tool, arguments, via=via, call=call, cause=cause)

    def record(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        outcome: str,
        via: str | None,
        call: str | None = None,
        required: bool = False,
    ) -> None:
        """Append one line; `call` pairs a write's "attempted" line with its outcome.

        With `required`, raise AuditUnavailable when the line cannot be written.
        """
        entry = {
            "time": self._clock().isoformat().replace("+00:00", "Z"),
            "tool": tool,
            "call": call,
            "arguments": redact(arguments),
            "outcome": outcome,
            "confirmation": via,
        }
        if caller := self._caller():
            entry["caller"] = caller
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
        call: str,
        cause: Callable[[Exception], str],
    ) -> None:
        self._log = log
        self._tool = tool
        self._arguments = arguments
        self._via = via
        self._call = call
        self._cause = cause

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if exc is None:
            outcome = "done"
        elif isinstance(exc, Exception):
            outcome = f"failed: {self._cause(exc)}"
        else:
            return
        self._log.record(self._tool, self._arguments, outcome=outcome, via=self._via, call=self._call)


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
