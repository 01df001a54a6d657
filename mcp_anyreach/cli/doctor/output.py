"""How a report is shown: a table for people (`render`), or one JSON object for scripts (`as_json`, `--json`).

Both show the checks that ran once, then one part per organization where several are configured; a fix is
printed under each failure or warning in the table, and always carried in the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import TextIO

from mcp_anyreach.cli.doctor.report import Check, Report
from mcp_anyreach.cli.doctor.scopes import UNVERIFIED_WRITE_SCOPES
from mcp_anyreach.cli.organizations import shown


def render(report: Report, out: TextIO) -> None:
    """The report as a table, each failure followed by its fix; one table per organization where several are
    configured, headed by its name and id."""
    mode = "read-only" if report.read_only else "read-write"
    width = max(len(check.name) for check in report.every_check) + 2
    print(f"mcp-anyreach doctor: {report.base_url} ({mode} server)\n", file=out)
    _table(report.checks, width, out)
    for section in report.sections:
        print(f"\norganization {shown(section.organization)}\n", file=out)
        _table(section.checks, width, out)
    failed = sum(check.status == "fail" for check in report.every_check)
    if failed:
        print(f"\n{failed} check(s) failed: fix them, then run `mcp-anyreach doctor` again.", file=out)
        if failing := [shown(section.organization) for section in report.sections if not section.ok]:
            print(f"Organizations with a failure: {', '.join(failing)}.", file=out)
    else:
        where = f"these {len(report.sections)} organizations" if report.sections else "this account"
        print(f"\nReady: a {mode} server can use {where}.", file=out)
        if not report.read_only:
            print(f"Unverified: {', '.join(UNVERIFIED_WRITE_SCOPES)} (see above).", file=out)


def _table(checks: Sequence[Check], width: int, out: TextIO) -> None:
    print(f"  {'check':<{width}}{'result':<8}detail", file=out)
    for check in checks:
        print(
            f"  {check.name:<{width}}{check.status.upper() if check.status != 'ok' else 'ok':<8}{check.detail}",
            file=out,
        )
        if check.fix and check.status in ("fail", "warn"):
            print(f"  {'':<{width}}{'':<8}fix: {check.fix}", file=out)


def as_json(report: Report) -> str:
    checks = [asdict(check) for check in report.checks]
    machine: dict[str, object] = {"ok": report.ok, "base_url": report.base_url, "read_only": report.read_only}
    machine["checks"] = checks
    if report.sections:
        machine["organizations"] = [
            {
                "id": section.organization.id,
                "name": section.organization.name,
                "ok": section.ok,
                "checks": [asdict(check) for check in section.checks],
            }
            for section in report.sections
        ]
    return json.dumps(machine)
