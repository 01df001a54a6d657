"""The audit toolset: what a telephony admin should look at, most severe first, with the tool that fixes it."""

from __future__ import annotations

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.inventory import (
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
from mcp_anyreach.server.views import Result


class AuditReport(Result):
    sandbox: bool
    organization: OrganizationCounts
    routing: RoutingState
    counts: dict[Severity, int]
    findings: list[Finding]
    findings_not_listed: dict[FindingCode, int]
    warnings: list[str] = Field(default_factory=list[str])


async def audit_inventory(services: Services, ctx: Context, min_severity: Severity = "low") -> AuditReport:
    """Audit numbers, trunks and routing: findings by severity, each with the tool that fixes it."""
    with api_errors(retry_safe=True):
        inventory = await collect_inventory(services.client, sandbox=services.sandbox, progress=ctx.report_progress)
    shown = set(SEVERITIES[: SEVERITIES.index(min_severity) + 1])
    return AuditReport(
        sandbox=inventory.sandbox,
        organization=inventory.organization,
        routing=inventory.routing,
        counts=inventory.finding_counts(),
        findings=[finding for finding in inventory.findings if finding.severity in shown],
        findings_not_listed={
            code: more for code, more in inventory.findings_not_listed.items() if RULES[code].severity in shown
        },
        warnings=inventory.warnings,
    )


TOOLS = (audit_inventory,)
