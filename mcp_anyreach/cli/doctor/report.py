"""What the doctor finds: each check's name, status, detail and fix, in the order the checks ran.

Every check module adds to a `CheckList`: the `Report` itself for the checks that run once, or an organization's
`Section` where several are configured. Also here, the fix every API check gives when the API's answer is
neither a grant nor a refusal, so the checks say it in the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from mcp_anyreach.api import AnyreachError, APIConnectionError
from mcp_anyreach.settings import Organization

Status = Literal["ok", "warn", "fail", "skip"]
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None


class CheckList:
    """Checks in the order they ran: a report's, or one organization's section of it."""

    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def add(self, name: str, status: Status, detail: str, fix: str | None = None) -> Check:
        check = Check(name, status, detail, fix)
        self.checks.append(check)
        return check

    def skip(self, names: Sequence[str], because: str) -> None:
        for name in names:
            self.add(name, "skip", f"needs {because}")


@dataclass
class Section(CheckList):
    """What the API answers in one of several organizations."""

    organization: Organization
    checks: list[Check] = field(default_factory=list[Check])


@dataclass
class Report(CheckList):
    base_url: str
    read_only: bool
    checks: list[Check] = field(default_factory=list[Check])
    sections: list[Section] = field(default_factory=list[Section])
    """One per organization where several are configured; else the API's checks are among `checks`."""

    @property
    def ok(self) -> bool:
        return super().ok and all(section.ok for section in self.sections)

    @property
    def every_check(self) -> list[Check]:
        return [*self.checks, *(check for section in self.sections for check in section.checks)]


def api_fix(failure: AnyreachError) -> str:
    if isinstance(failure, APIConnectionError):
        return "The API stopped answering: check the network, then run doctor again."
    return "Run doctor again shortly; if it persists, contact Anyreach support with the request id above."
