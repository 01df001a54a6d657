"""The options more than one command takes, each declared once: its flag, how it parses, its usual help.

A command that reads an option its own way (doctor checks the audit log a server would write; the sandbox
listens on its own port) adds it with its own help sentence, never a second declaration. An option whose
name is a Settings field reaches the settings under that name (main.settings_from).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Option:
    """One option; `help` is what it means to most commands that take it (None: each says its own)."""

    flag: str
    help: str | None = None
    action: str | None = None
    type: type[Any] | None = None

    def add(self, parser: argparse.ArgumentParser, *, help: str | None = None, default: Any = None) -> None:
        """Add this option to `parser`, with this command's own `help` sentence and `default` if it has them."""
        said = help or self.help
        assert said, f"{self.flag} needs a help sentence in {parser.prog}"
        parsing: dict[str, Any] = {"action": self.action, "type": self.type, "default": default}
        parser.add_argument(self.flag, help=said, **{key: value for key, value in parsing.items() if value is not None})


HOST = Option("--host")
PORT = Option("--port", type=int)
READ_ONLY = Option("--read-only", "register read tools only; refuse every write", action="store_true")
AUDIT_LOG = Option("--audit-log", "append every attempted write to this JSON-lines file")
TOKEN_STORE = Option("--token-store", "SQLite file of the state replicas on one host share: used tokens, budget, plans")
SANDBOX = Option("--sandbox", "use the embedded sandbox even with a token", action="store_true")
DB = Option("--db", "the embedded sandbox's SQLite file")
JSON = Option("--json", action="store_true")
DOCUMENT = Option("file", "the desired-state document (YAML or JSON)")
ORGANIZATION = Option(
    "--organization",
    "the organization to act in, by id or name, where ANYREACH_ORG_ID names several (else the document's "
    "organization:)",
)


def account(parser: argparse.ArgumentParser, *, db_help: str | None = None) -> None:
    """--sandbox and --db: which API a command talks to when ANYREACH_TOKEN is set, and the sandbox's file."""
    SANDBOX.add(parser)
    DB.add(parser, help=db_help)
