"""The audit toolset: what a telephony admin should look at, most severe first, with the tool that fixes it."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_anyreach.domain.api_errors import api_errors
from mcp_anyreach.domain.args import Cursor
from mcp_anyreach.domain.records import Result
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.reports.inventory import (
    RULES,
    SEVERITIES,
    Finding,
    FindingCode,
    OrganizationCounts,
    RoutingState,
    Severity,
    collect_inventory,
)
from mcp_anyreach.server.services import Services


class AuditReport(Result):
    sandbox: bool
    organization: OrganizationCounts
    routing: RoutingState
    counts: dict[Severity, int]
    findings: list[Finding]
    findings_not_listed: dict[FindingCode, int]
    next_cursor: str | None = None
    warnings: list[str] = Field(default_factory=list[str])


async def audit_inventory(
    services: Services,
    ctx: Context,
    min_severity: Severity = "low",
    code: Annotated[str | None, Field(max_length=64, description="List every finding of this code")] = None,
    cursor: Cursor = None,
) -> AuditReport:
    """Audit numbers, trunks and routing: findings by severity, each with the tool that fixes it."""
    start = _offset(cursor)
    if code is not None and code not in RULES:
        raise Refusal(f"There is no finding code {code!r}; the codes are: {', '.join(RULES)}.")
    agents = await services.agent_names.directory()
    with api_errors(retry_safe=True):
        inventory = await collect_inventory(
            services.client,
            sandbox=services.sandbox,
            progress=ctx.report_progress,
            code=code,
            window=(start, CODE_PAGE),
            agents=agents,
        )
    shown = set(SEVERITIES[: SEVERITIES.index(min_severity) + 1])
    if code is not None:
        shown.add(RULES[code].severity)  # asking for a code by name asks for all of it, however mild
    findings = [f for f in inventory.findings if f.severity in shown and (code is None or f.code == code)]
    listed: Counter[FindingCode] = Counter()
    for finding in findings:
        listed[finding.code] += len(finding.subjects)
    more = code is not None and inventory.seen.get(code, 0) > start + CODE_PAGE
    return AuditReport(
        sandbox=inventory.sandbox,
        organization=inventory.organization,
        routing=inventory.routing,
        counts=inventory.finding_counts(),
        findings=findings,
        findings_not_listed={
            c: seen - listed[c] for c, seen in inventory.seen.items() if RULES[c].severity in shown and seen > listed[c]
        },
        next_cursor=str(start + CODE_PAGE) if more else None,
        warnings=inventory.warnings,
    )


class OrganizationEntry(Result):
    id: str
    name: str


class OrganizationList(Result):
    organizations: list[OrganizationEntry]


async def list_organizations(services: Services) -> OrganizationList:
    """The organizations this server acts in: pass one's id or name as `organization` to the other tools."""
    return OrganizationList(
        organizations=[OrganizationEntry(id=org.id, name=org.name) for org in services.settings.organizations]
    )


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise Refusal("cursor: pass the next_cursor of the previous audit_inventory result unchanged.")
    return int(cursor)


CODE_PAGE = 50
