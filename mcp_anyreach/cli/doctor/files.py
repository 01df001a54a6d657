"""The "audit log" and "token store" checks, run once: could a read-write server write the files it is given?

They touch no file: they ask the file system whether the path, or its directory, is writable.
"""

from __future__ import annotations

import os
from pathlib import Path

from mcp_anyreach.cli.doctor.report import Report
from mcp_anyreach.settings import Settings


def check_files(report: Report, settings: Settings) -> None:
    files = (
        ("audit log", settings.audit_log, "--audit-log / MCP_ANYREACH_AUDIT_LOG"),
        ("token store", settings.token_store, "--token-store / MCP_ANYREACH_TOKEN_STORE"),
    )
    for name, path, option in files:
        if path is None:
            report.add(name, "ok", f"not configured ({option})")
        elif settings.read_only:
            report.add(name, "skip", f"{path}: unused with --read-only (nothing is written)")
        elif (problem := _unwritable(path)) is not None:
            report.add(
                name, "fail", f"{path}: {problem}", f"Create the directory or fix its permissions, or change {option}."
            )
        else:
            report.add(name, "ok", f"{path} is writable")


def _unwritable(path: Path) -> str | None:
    """Why the server could not write `path` (or create it, with SQLite's journal beside it), or None."""
    if path.is_dir():
        return "is a directory"
    if path.exists():
        return None if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK) else "is not writable"
    if not path.parent.is_dir():
        return f"its directory {path.parent} does not exist"
    return None if os.access(path.parent, os.W_OK) else f"its directory {path.parent} is not writable"
