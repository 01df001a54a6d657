"""The organization's telephony at a glance: counts, numbers per trunk, routing state and audit findings.

`collect_inventory` reads every trunk and number page by page and keeps only counts plus a capped list
of findings per code, so a 10,000-number account costs what a few pages cost, in memory and in tokens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Literal, NamedTuple

from pydantic import Field

from mcp_anyreach.api import AnyreachClient, InboundRoutingConfig, PhoneNumber, Trunk
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.api.pagination import pages
from mcp_anyreach.domain.networks import too_wide
from mcp_anyreach.domain.records import Result
from mcp_anyreach.domain.text import clipped
from mcp_anyreach.domain.workflows import unverified
from mcp_anyreach.reports.explain import nobody_answers, routing_decides

Severity = Literal["high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low", "info")
TrunkKind = Literal["managed", "byoc", "unknown"]
Progress = Callable[[int, int | None, str], Awaitable[None]]
"""`progress(done, total, message)`; `done` grows with every call, `total` is None (unknown up front)."""

PAGE_SIZE = 100
FINDINGS_PER_CODE = 20
TRUNKS_LISTED = 50


class Rule(NamedTuple):
    severity: Severity
    fix: str | None


FindingCode = Literal[
    "number_without_inbound_agent",
    "number_answered_by_inactive_agent",
    "number_unused",
    "byoc_trunk_unprotected",
    "byoc_trunk_without_inbound_auth",
    "byoc_trunk_open_to_any_address",
    "routing_fallback_unset",
    "number_shareable_outbound",
    "trunk_without_numbers",
    "managed_trunk_without_numbers",
    "routing_disabled",
    "no_routing_config",
]
RULES: dict[FindingCode, Rule] = {
    "number_without_inbound_agent": Rule(severity="high", fix="assign_agent_to_numbers"),
    "number_answered_by_inactive_agent": Rule(severity="high", fix="assign_agent_to_numbers"),
    "number_unused": Rule(severity="low", fix="delete_phone_number"),
    "byoc_trunk_unprotected": Rule(severity="high", fix="update_trunk"),
    "byoc_trunk_without_inbound_auth": Rule(severity="medium", fix="update_trunk"),
    "byoc_trunk_open_to_any_address": Rule(severity="medium", fix="update_trunk"),
    "routing_fallback_unset": Rule(severity="medium", fix="update_inbound_routing_config"),
    "number_shareable_outbound": Rule(severity="low", fix="update_phone_number"),
    "trunk_without_numbers": Rule(severity="low", fix="register_phone_number"),
    "managed_trunk_without_numbers": Rule(severity="info", fix=None),
    "routing_disabled": Rule(severity="info", fix="update_inbound_routing_config"),
    "no_routing_config": Rule(severity="info", fix="create_inbound_routing_config"),
}
"""Every finding code, its severity and the tool that fixes it: declared once, read by the collector."""


# No docstring or field descriptions: they would ride along in audit_inventory's output schema.
class Finding(Result):
    code: FindingCode
    severity: Severity
    message: str  # said once for every subject it covers
    subjects: list[str]  # phone numbers, trunk ids or "routing"
    fix: str | None = None  # the tool that fixes it


class OrganizationCounts(Result):
    numbers: int
    trunks: int
    managed_trunks: int
    byoc_trunks: int


class TrunkNumbers(Result):
    trunk_id: str
    name: str | None
    kind: TrunkKind
    numbers: int


class RoutingState(Result):
    state: Literal["none", "disabled", "enabled"]
    workflow_id: str | None = None
    fallback_agent_id: str | None = None


class Inventory(Result):
    sandbox: bool
    organization: OrganizationCounts
    numbers_per_trunk: list[TrunkNumbers]
    trunks_not_listed: int = 0
    routing: RoutingState
    findings: list[Finding] = Field(description="Most severe first; at most 20 subjects per code")
    findings_not_listed: dict[FindingCode, int] = Field(
        default_factory=dict[FindingCode, int], description="Subjects per code"
    )
    warnings: list[str] = Field(default_factory=list[str], description="Why the counts may be incomplete")
    seen: dict[FindingCode, int] = Field(default_factory=dict[FindingCode, int], exclude=True)

    def finding_counts(self) -> dict[Severity, int]:
        """Findings per severity, listed or not."""
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding.severity] += len(finding.subjects)
        for code, more in self.findings_not_listed.items():
            counts[RULES[code].severity] += more
        return counts


class _Findings:
    """Keeps the first few subjects of each code and counts the rest; of `kept`, `window` (offset, size).

    Subjects that share a code and a message share one Finding, so a message is said once, not per number.
    """

    def __init__(self, kept: FindingCode | None = None, window: tuple[int, int] = (0, FINDINGS_PER_CODE)) -> None:
        self.listed: dict[FindingCode, dict[str, list[str]]] = {code: {} for code in RULES}
        self.seen: Counter[FindingCode] = Counter()
        self._severity: dict[tuple[FindingCode, str], Severity] = {}
        self._kept = kept
        self._window = window

    def add(self, code: FindingCode, subject: str, message: str, severity: Severity | None = None) -> None:
        """`severity` overrides the rule's, for a finding made worse by what else is known."""
        index = self.seen[code]
        self.seen[code] += 1
        start, size = self._window if code == self._kept else (0, FINDINGS_PER_CODE)
        if start <= index < start + size:
            self.listed[code].setdefault(message, []).append(subject)
            if severity is not None:
                self._severity[code, message] = severity

    def count_listed(self, code: FindingCode) -> int:
        return sum(len(subjects) for subjects in self.listed[code].values())

    def ordered(self) -> list[Finding]:
        rank = {severity: index for index, severity in enumerate(SEVERITIES)}
        every = [
            Finding(
                code=code,
                severity=self._severity.get((code, message), RULES[code].severity),
                message=message,
                subjects=subjects,
                fix=RULES[code].fix,
            )
            for code, messages in self.listed.items()
            for message, subjects in messages.items()
        ]
        return sorted(every, key=lambda finding: rank[finding.severity])


class _TrunkTally:
    def __init__(self, trunk: Trunk | None) -> None:
        self.trunk = trunk
        self.numbers = 0

    def row(self, trunk_id: str) -> TrunkNumbers:
        kind: TrunkKind = "unknown" if self.trunk is None else self.trunk.kind
        return TrunkNumbers(
            trunk_id=trunk_id, name=clipped(self.trunk.name) if self.trunk else None, kind=kind, numbers=self.numbers
        )


async def collect_inventory(
    client: AnyreachClient,
    *,
    sandbox: bool,
    progress: Progress | None = None,
    code: FindingCode | None = None,
    window: tuple[int, int] = (0, FINDINGS_PER_CODE),
    agents: AgentDirectory | None = None,
) -> Inventory:
    """Read routing, then every trunk and number page by page; raise AnyreachError when the API fails.

    Findings of `code` are listed from `window` (offset, size), so that every one of them can be paged through.
    Without `agents` (no agents:read scope), numbers answered by a switched-off agent go unnoticed.
    """
    findings = _Findings(code, window)
    done = 0

    async def step(rows: int, message: str) -> None:
        nonlocal done
        done += rows
        if progress is not None and rows:
            await progress(done, None, message)

    routing = await client.inbound_routing.get()
    _check_routing(routing, findings)
    await step(1, "Read the inbound routing config")

    warnings: list[str] = []
    tallies: dict[str, _TrunkTally] = {}
    async for page in pages(lambda cursor: client.trunks.list(limit=PAGE_SIZE, cursor=cursor), "trunks"):
        if page.possibly_incomplete:
            warnings.append(_incomplete("trunks", len(tallies) + len(page.items)))
        for trunk in page.items:
            tallies[trunk.id] = _TrunkTally(trunk)
            _check_trunk(trunk, findings)
        await step(len(page.items), f"Read {len(tallies)} trunks")

    numbers = 0
    async for page in pages(lambda cursor: client.phone_numbers.list(limit=PAGE_SIZE, cursor=cursor), "phone numbers"):
        if page.possibly_incomplete:
            warnings.append(_incomplete("phone numbers", numbers + len(page.items)))
        for number in page.items:
            tallies.setdefault(number.trunk_id, _TrunkTally(None)).numbers += 1
            _check_number(number, findings, routing)
            _check_answering_agent(number, findings, routing, agents)
        numbers += len(page.items)
        await step(len(page.items), f"Read {numbers} phone numbers")

    for tally in tallies.values():
        if tally.trunk is not None and tally.numbers == 0:
            _trunk_without_numbers(tally.trunk, findings)
    managed = sum(1 for tally in tallies.values() if tally.trunk is not None and tally.trunk.managed_account_id)
    known = sum(1 for tally in tallies.values() if tally.trunk is not None)
    rows = [tally.row(trunk_id) for trunk_id, tally in tallies.items()]
    return Inventory(
        sandbox=sandbox,
        organization=OrganizationCounts(
            numbers=numbers, trunks=known, managed_trunks=managed, byoc_trunks=known - managed
        ),
        numbers_per_trunk=rows[:TRUNKS_LISTED],
        trunks_not_listed=max(0, len(rows) - TRUNKS_LISTED),
        routing=_routing_state(routing),
        findings=findings.ordered(),
        findings_not_listed={
            code: seen - findings.count_listed(code)
            for code, seen in findings.seen.items()
            if seen > findings.count_listed(code)
        },
        seen=dict(findings.seen),
        warnings=warnings,
    )


def _incomplete(what: str, read: int) -> str:
    return (
        f"Possibly incomplete: after {read} {what}, the API sent a full page without a next-page cursor this "
        f"server recognises, so there may be more {what} than counted, and findings about them are missing."
    )


def _routing_state(routing: InboundRoutingConfig | None) -> RoutingState:
    if routing is None:
        return RoutingState(state="none")
    return RoutingState(
        state="enabled" if routing.enabled else "disabled",
        workflow_id=routing.workflow_id,
        fallback_agent_id=routing.fallback_agent_id,
    )


def _check_routing(routing: InboundRoutingConfig | None, findings: _Findings) -> None:
    if routing is None:
        findings.add(
            "no_routing_config",
            "routing",
            "No inbound routing config: each call is answered by its number's own inbound agent, or dropped.",
        )
    elif not routing.enabled:
        findings.add(
            "routing_disabled",
            "routing",
            "The inbound routing config is disabled: each number's own inbound agent answers, or nobody.",
        )
    elif routing.fallback_agent_id is None:
        reason = unverified(routing.model_dump())
        message = "Routing has no fallback_agent_id: calls are disconnected whenever the workflow fails or times out."
        if reason:
            message += f" {reason[:1].upper()}{reason[1:]}: if it is wrong, every inbound call is disconnected."
        findings.add(
            "routing_fallback_unset",
            "routing",
            message,
            severity="high" if reason else None,
        )


def _check_trunk(trunk: Trunk, findings: _Findings) -> None:
    if trunk.managed_account_id:
        return
    inbound = trunk.inbound_config
    has_auth = inbound is not None and bool(inbound.auth_username) and inbound.password_set
    wide = too_wide(inbound.allowed_addresses if inbound is not None else [])
    if not has_auth and wide:
        message = f"These BYOC trunks accept inbound calls without authentication from {wide}."
        findings.add("byoc_trunk_unprotected", trunk.id, message)
    elif not has_auth:
        message = "These BYOC trunks have no inbound digest authentication."
        findings.add("byoc_trunk_without_inbound_auth", trunk.id, message)
    elif wide:
        message = f"These BYOC trunks accept inbound calls from {wide}."
        findings.add("byoc_trunk_open_to_any_address", trunk.id, message)


def _trunk_without_numbers(trunk: Trunk, findings: _Findings) -> None:
    if trunk.managed_account_id:
        message = "These managed trunks have no numbers left; the API cannot delete them."
        findings.add("managed_trunk_without_numbers", trunk.id, message)
    else:
        message = "These BYOC trunks have no numbers; register some or delete them (delete_trunk)."
        findings.add("trunk_without_numbers", trunk.id, message)


def _check_number(number: PhoneNumber, findings: _Findings, routing: InboundRoutingConfig | None) -> None:
    phone = number.phone_number
    unanswered = nobody_answers(number, routing)
    if unanswered:
        message = "These numbers have no inbound agent and no enabled routing: their calls are disconnected."
        findings.add("number_without_inbound_agent", phone, message)
    # A shareable number may be the caller id of any agent's outbound calls, so it is in use.
    if unanswered and number.outbound_agent_version_id is None and not number.outbound_shareable:
        message = (
            "Nobody answers or calls from these numbers (no agent on either slot, not shareable). "
            "Assign an agent, or delete them if nobody needs them."
        )
        findings.add("number_unused", phone, message)
    if number.outbound_shareable:
        message = "These numbers are shareable: other agents may place outbound calls from them."
        findings.add("number_shareable_outbound", phone, message)


def _check_answering_agent(
    number: PhoneNumber, findings: _Findings, routing: InboundRoutingConfig | None, agents: AgentDirectory | None
) -> None:
    if routing_decides(routing) or agents is None:
        return
    ref = agents.resolve(number.inbound_agent_version_id)
    if ref is not None and not ref.agent_active:
        findings.add(
            "number_answered_by_inactive_agent",
            number.phone_number,
            f"The calls of these numbers reach agent {clipped(ref.agent_name)!r} ({clipped(ref.agent_id)}), "
            "which is switched off (active: false).",
        )
