"""What `mcp-anyreach` exits with: one meaning per code for every command, as `terraform plan -detailed-exitcode`.

A pipeline tells "changes pending" from "broken" by the code alone: a mistyped flag, a bad configuration, an
API error or a refusal is 1, never 2. `mcp-anyreach --help` prints TABLE.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The codes TABLE explains to a person."""

    SUCCESS = 0
    FAILURE = 1
    CHANGES_PENDING = 2


TABLE = """exit codes (the same for every command):
  0  success; for plan: no changes
  1  any failure: a usage or configuration error, an API error, a refusal, a failed doctor check,
     an apply not approved or not complete
  2  plan only: changes pending"""
