"""The "token format" check, run once: is ANYREACH_TOKEN set, and is it a key or token the API could accept?

It reads only the settings, so it runs before anything is sent; the API's checks are skipped when it fails.
"""

from __future__ import annotations

from mcp_anyreach.cli.credentials import credential_problem
from mcp_anyreach.cli.doctor.report import Report
from mcp_anyreach.settings import Settings


def check_token(report: Report, settings: Settings) -> bool:
    if settings.token is None:
        report.add(
            "token format",
            "fail",
            "ANYREACH_TOKEN is not set, so the server would run on its sandbox (demo data)",
            "Set ANYREACH_TOKEN to an API key (ak_...), or a personal access token (pat_...) with ANYREACH_ORG_ID.",
        )
        return False
    token = settings.token.get_secret_value()
    if problem := credential_problem(token, [organization.id for organization in settings.organizations]):
        report.add("token format", "fail", problem.problem, problem.fix)
        return False
    kind = (
        f"personal access token (pat_...) for organization {settings.organization_id}"
        if token.startswith("pat_")
        else "organization API key (ak_...)"
    )
    if len(settings.organizations) > 1:
        kind = f"personal access token (pat_...) for {len(settings.organizations)} organizations, each checked below"
    if settings.sandbox:
        report.add(
            "token format",
            "warn",
            f"{kind}, but MCP_ANYREACH_SANDBOX is set: the server would ignore it and serve demo data",
            "Unset MCP_ANYREACH_SANDBOX (and drop --sandbox) to use the account.",
        )
    else:
        report.add("token format", "ok", kind)
    return True
