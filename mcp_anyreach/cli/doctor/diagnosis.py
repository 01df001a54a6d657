"""The order the checks run in (`diagnose`), and the command that prints them and answers the exit code
(`run_doctor`).

The token, the network and the files are checked once; the API's checks once per organization, or once among
the others where a single organization is configured. A check that needs an earlier one which failed is skipped,
naming what it needs.
"""

from __future__ import annotations

import os
import sys

import anyio

from mcp_anyreach.api.errors import display_url
from mcp_anyreach.cli.doctor.files import check_files
from mcp_anyreach.cli.doctor.network import check_network
from mcp_anyreach.cli.doctor.organization import API_CHECKS, check_organization
from mcp_anyreach.cli.doctor.output import as_json, render
from mcp_anyreach.cli.doctor.report import DEFAULT_TIMEOUT, CheckList, Report, Section
from mcp_anyreach.cli.doctor.scopes import WRITE_CHECKS
from mcp_anyreach.cli.doctor.token_format import check_token
from mcp_anyreach.cli.exit_codes import ExitCode
from mcp_anyreach.settings import Organization, Settings


async def diagnose(settings: Settings, *, per_check: float = DEFAULT_TIMEOUT) -> Report:
    """Run every check against the account `settings` describe."""
    report = Report(base_url=display_url(settings.base_url), read_only=settings.read_only)
    token_ok = check_token(report, settings)
    api_checks = API_CHECKS if settings.read_only else [*API_CHECKS, *WRITE_CHECKS]
    reachable = await check_network(report, settings.base_url, per_check)
    several = settings.organizations if len(settings.organizations) > 1 else ()
    report.sections = [Section(organization) for organization in several]
    targets: list[tuple[CheckList, Organization | None]] = [
        (section, section.organization) for section in report.sections
    ]
    for checks, organization in targets or [(report, None)]:
        if reachable and token_ok:
            await check_organization(checks, settings, organization, per_check, api_checks)
        elif token_ok:
            checks.skip(["credential", *api_checks], "the API to be reachable")
        else:
            checks.skip(["credential", *api_checks], "a well-formed token")
        if settings.read_only:
            checks.add("write scopes", "skip", "not needed with --read-only")
    check_files(report, settings)
    return report


def run_doctor(settings: Settings, *, as_machine_readable: bool = False, per_check: float = DEFAULT_TIMEOUT) -> int:
    """Diagnose, print the report on stdout, answer the exit code (0 ready, 1 something failed)."""
    report = anyio.run(lambda: diagnose(settings, per_check=per_check))
    try:
        if as_machine_readable:
            print(as_json(report), file=sys.stdout)
        else:
            render(report, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (`| head`) left: point stdout at nothing, so the flush at exit raises no second error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return ExitCode.SUCCESS if report.ok else ExitCode.FAILURE
