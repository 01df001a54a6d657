"""The "scope ..." checks of one organization: which of the scopes the tools need does the credential have?

A read scope is tested by the cheapest read it allows (`READ_SCOPES`). A write scope is tested only where an
empty POST cannot create anything (`WRITE_PROBES`): a 403 means the scope is missing, a 422 that it is there and
the body was refused. Every other write (a purchase, a publish, a PUT, a DELETE) could act on an empty body or
needs a real target, so the scopes behind it are reported as unverified (`UNVERIFIED_WRITE_SCOPES`).
The managed account's own scope is checked with the account, in `managed_account`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx2

from mcp_anyreach.api import AnyreachClient, AnyreachError, PermissionDeniedError
from mcp_anyreach.cli.doctor.report import CheckList, api_fix
from mcp_anyreach.settings import Settings

UNVERIFIED_WRITE_SCOPES = ("managed_accounts:manage", "inbound_routing_configs:manage", "agents:manage")


@dataclass(frozen=True)
class ReadScope:
    scope: str
    probe: Callable[[AnyreachClient], Awaitable[object]]  # the cheapest read the scope allows
    used_by: str


READ_SCOPES = (
    ReadScope("phone_numbers:read", lambda c: c.phone_numbers.list(limit=1), "the number tools, inventory and audit"),
    ReadScope("trunks:read", lambda c: c.trunks.list(limit=1), "the trunk tools, inventory and audit"),
    ReadScope("inbound_routing_configs:read", lambda c: c.inbound_routing.get(), "the routing tools and audit"),
    ReadScope("agents:read", lambda c: c.agents.list(limit=1), "the agent tools and explain_inbound_call"),
)


@dataclass(frozen=True)
class WriteProbe:
    """A write endpoint whose empty body the API refuses (422) after checking the scope (403), creating nothing."""

    scope: str
    path: str
    used_by: str


WRITE_PROBES = (
    WriteProbe("trunks:manage", "/core/trunks", "creating, updating and deleting trunks"),
    WriteProbe("phone_numbers:manage", "/core/phone-numbers", "registering, moving and deleting numbers"),
)
WRITE_CHECKS = [*(f"scope {probe.scope}" for probe in WRITE_PROBES), "other write scopes"]


async def read_scope(client: AnyreachClient, scope: ReadScope) -> AnyreachError | None:
    """The scope's probe: None when it answered, else how it failed."""
    try:
        await scope.probe(client)
    except AnyreachError as failure:
        return failure
    return None


def check_scope(report: CheckList, scope: ReadScope, answered: AnyreachError | None) -> None:
    if isinstance(answered, PermissionDeniedError):
        _scope_missing(report, scope)
    elif answered is not None:
        report.add(f"scope {scope.scope}", "fail", f"could not be checked: {answered}", api_fix(answered))
    else:
        report.add(f"scope {scope.scope}", "ok", f"granted; {scope.used_by} work")


def _scope_missing(report: CheckList, scope: ReadScope) -> None:
    report.add(
        f"scope {scope.scope}",
        "fail",
        f"the credential lacks {scope.scope}, so {scope.used_by} fail",
        f"Use a key that has {scope.scope} (or {scope.scope.replace(':read', ':manage')}).",
    )


async def check_write_scopes(report: CheckList, settings: Settings, org_id: str | None, per_check: float) -> None:
    assert settings.token is not None
    headers = {"Authorization": f"Bearer {settings.token.get_secret_value()}", "Accept": "application/json"}
    if org_id is not None:
        headers["X-Anyreach-Org"] = org_id
    # Its own bare client, so the read-only client the reads go through stays unable to write and these two POSTs
    # are all it sends.
    async with httpx2.AsyncClient(
        base_url=settings.base_url.rstrip("/"), headers=headers, timeout=per_check, follow_redirects=False
    ) as http:
        for probe in WRITE_PROBES:
            try:
                status: int | str = (await http.post(probe.path, json={})).status_code
            except httpx2.HTTPError as exc:
                status = f"no answer ({type(exc).__name__})"
            _write_scope_result(report, probe, status)
    report.add(
        "other write scopes",
        "skip",
        f"unverified: {', '.join(UNVERIFIED_WRITE_SCOPES)} (testing them would buy, publish or re-route); "
        "a tool that needs one the key lacks is refused with a 403",
    )


def _write_scope_result(report: CheckList, probe: WriteProbe, status: int | str) -> None:
    name = f"scope {probe.scope}"
    if status == 422:
        report.add(name, "ok", f"granted (an empty POST {probe.path} was refused for its body); {probe.used_by} work")
    elif status == 403:
        report.add(
            name,
            "fail",
            f"the credential lacks {probe.scope}, so {probe.used_by} fail",
            f"Use a key that has {probe.scope}, or run the server with --read-only.",
        )
    else:
        report.add(
            name,
            "warn",
            f"unverified: an empty POST {probe.path} answered {status}, neither 403 (missing) nor 422 (granted)",
            f"Run doctor again; if {probe.used_by} are refused with a 403, use a key that has {probe.scope}.",
        )
