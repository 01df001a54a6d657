"""Every attempted write, one JSON line each: to `--audit-log` when given, and to the log at INFO."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, SecretStr

from mcp_anyreach.server.caller import caller_identity

logger = logging.getLogger("mcp_anyreach.audit")
REDACTED = "[redacted]"


class AuditLog:
    def __init__(self, path: Path | None = None, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._path = path
        self._clock = clock

    def record(self, tool: str, arguments: Mapping[str, Any], *, outcome: str, via: str | None) -> None:
        entry = {
            "time": self._clock().isoformat().replace("+00:00", "Z"),
            "tool": tool,
            "arguments": redact(arguments),
            "outcome": outcome,
            "confirmation": via,
        }
        if caller := caller_identity():
            entry["caller"] = caller
        line = json.dumps(entry, separators=(",", ":"), default=str)
        logger.info("audit %s", line)
        if self._path is not None:
            with self._path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")


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
