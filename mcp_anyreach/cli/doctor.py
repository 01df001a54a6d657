"""`mcp-anyreach doctor`: is everything a server needs for a real Anyreach account in place?

Checks run in order, each with the fix for its failure; a check that needs an earlier one which failed is
skipped. The exit code is 0 only when nothing failed: everything a read-write server needs, or with
`--read-only` what a read-only server needs. Doctor never changes anything: its reads are cheap GETs made
through a read-only client, and for a read-write server it sends an empty POST to the two endpoints where an
empty body cannot create anything (a 403 means the scope is missing, a 422 that it is there and the body was
refused). Every other write (a purchase, a publish, a PUT, a DELETE) could act on an empty body or needs a
real target, so the scopes behind them are reported as unverified.

Where ANYREACH_ORG_ID names several organizations, the token, the network and the files are checked once and
everything the API answers (access, scopes, managed account, write scopes) once per organization, in a section
of its own that sends that organization's X-Anyreach-Org. An organization whose every read is refused (403) is
one the token's user is not a member of, which is said as such rather than as four missing scopes.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, TextIO

import anyio
import httpx2

from mcp_anyreach.api import (
    AnyreachClient,
    AnyreachError,
    APIConnectionError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
)
from mcp_anyreach.api.errors import display_url
from mcp_anyreach.cli.credentials import credential_problem
from mcp_anyreach.cli.exit_codes import ExitCode
from mcp_anyreach.cli.organizations import shown
from mcp_anyreach.domain.managed_account import NoSingleManagedAccount, discover_managed_account
from mcp_anyreach.domain.networks import is_loopback
from mcp_anyreach.settings import Organization, Settings

Status = Literal["ok", "warn", "fail", "skip"]
DEFAULT_TIMEOUT = 10.0
UNVERIFIED_WRITE_SCOPES = ("managed_accounts:manage", "inbound_routing_configs:manage", "agents:manage")


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
API_CHECKS = [f"scope {scope.scope}" for scope in READ_SCOPES] + ["managed account", "scope managed_accounts:read"]


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


async def diagnose(settings: Settings, *, per_check: float = DEFAULT_TIMEOUT) -> Report:
    """Run every check against the account `settings` describe."""
    report = Report(base_url=display_url(settings.base_url), read_only=settings.read_only)
    token_ok = _check_token(report, settings)
    api_checks = API_CHECKS if settings.read_only else [*API_CHECKS, *WRITE_CHECKS]
    reachable = await _check_network(report, settings.base_url, per_check)
    several = settings.organizations if len(settings.organizations) > 1 else ()
    report.sections = [Section(organization) for organization in several]
    targets: list[tuple[CheckList, Organization | None]] = [
        (section, section.organization) for section in report.sections
    ]
    for checks, organization in targets or [(report, None)]:
        if reachable and token_ok:
            await _check_api(checks, settings, organization, per_check, api_checks)
        elif token_ok:
            checks.skip(["credential", *api_checks], "the API to be reachable")
        else:
            checks.skip(["credential", *api_checks], "a well-formed token")
        if settings.read_only:
            checks.add("write scopes", "skip", "not needed with --read-only")
    _check_files(report, settings)
    return report


def _check_token(report: Report, settings: Settings) -> bool:
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


async def _check_network(report: Report, base_url: str, per_check: float) -> bool:
    """Base URL, DNS, TCP and TLS, each only after the one before passed."""
    steps = ["DNS", "TCP", "TLS"]
    shown = display_url(base_url)  # the URL may carry a password or a key in its query
    try:
        url = httpx2.URL(base_url)
    except (httpx2.InvalidURL, ValueError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        report.add(
            "base URL",
            "fail",
            f"{shown!r} is not an http(s) URL",
            "Set ANYREACH_BASE_URL to https://api.anyreach.ai (or unset it).",
        )
        report.skip(steps, "a valid base URL")
        return False
    host, port = url.host, url.port or (443 if url.scheme == "https" else 80)
    if url.scheme == "http" and not is_loopback(host):
        report.add(
            "base URL",
            "warn",
            f"{shown} is plain HTTP: the token would cross the network unencrypted",
            "Use https:// unless this is a sandbox on your own machine.",
        )
    else:
        report.add("base URL", "ok", shown)
    for step, probe in (("DNS", _resolve), ("TCP", _connect), ("TLS", _handshake)):
        if step == "TLS" and url.scheme == "http":
            report.add("TLS", "skip", "plain HTTP, no TLS")
            continue
        failure = await _probe(probe, host, port, per_check)
        if failure is not None:
            report.add(step, "fail", failure, _NETWORK_FIXES[step].format(host=host, port=port))
            report.skip(steps[steps.index(step) + 1 :], f"{step} to succeed")
            return False
        report.add(step, "ok", f"{host}:{port}" if step != "DNS" else f"{host} resolves")
    return True


_NETWORK_FIXES = {
    "DNS": "Check the host name in ANYREACH_BASE_URL, and this machine's network and DNS settings.",
    "TCP": "Check that {host}:{port} is reachable from this machine (firewall, VPN, proxy); "
    "for a local sandbox, start it with `mcp-anyreach sandbox`.",
    "TLS": "The TLS handshake with {host}:{port} failed: behind a proxy that inspects TLS, point SSL_CERT_FILE "
    "at its CA certificate; for a plain-HTTP sandbox, use an http:// base URL.",
}


async def reachability_problem(base_url: str, per_check: float = DEFAULT_TIMEOUT) -> str | None:
    """Why the API at `base_url` cannot be reached (DNS, TCP, TLS), or None when it can."""
    report = Report(base_url=display_url(base_url), read_only=True)
    if await _check_network(report, base_url, per_check):
        return None
    return next(f"{check.name}: {check.detail}" for check in report.checks if check.status == "fail")


Probe = Callable[[str, int], Awaitable[None]]


async def _probe(probe: Probe, host: str, port: int, per_check: float) -> str | None:
    try:
        with anyio.fail_after(per_check):
            await probe(host, port)
    except TimeoutError:
        return f"no answer from {host}:{port} within {per_check:g} s"
    except (OSError, ssl.SSLError, anyio.BrokenResourceError) as exc:
        return f"{host}:{port}: {_reason(exc)}"
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc.__cause__, OSError):  # anyio's "All connection attempts failed" wraps the last one
        exc = exc.__cause__
    if isinstance(exc, socket.gaierror):
        return f"the name does not resolve ({exc.strerror or exc})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its certificate is not trusted ({exc.verify_message or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens there)"
    return str(exc) or type(exc).__name__


async def _resolve(host: str, port: int) -> None:
    await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)


async def _connect(host: str, port: int) -> None:
    stream = await anyio.connect_tcp(host, port)
    await stream.aclose()


async def _handshake(host: str, port: int) -> None:
    stream = await anyio.connect_tcp(
        host, port, ssl_context=ssl.create_default_context(), tls_standard_compatible=False
    )
    await stream.aclose()


async def _check_api(
    report: CheckList,
    settings: Settings,
    organization: Organization | None,
    per_check: float,
    api_checks: Sequence[str],
) -> None:
    """The API's checks in `organization` (one of several), or in the one organization the settings name."""
    assert settings.token is not None
    token = settings.token.get_secret_value()
    org_id = settings.organization_id if organization is None else organization.id
    async with AnyreachClient(
        settings.base_url, token, org_id, read_only=True, max_retries=0, timeout=per_check
    ) as client:
        first, *others = READ_SCOPES
        answered = await _read(client, first)
        # Only a read that got past authentication (granted or refused for its scope) makes the others worth sending.
        reads = [await _read(client, scope) for scope in others] if _authenticated(answered) else []
        if organization is not None and all(isinstance(read, PermissionDeniedError) for read in [answered, *reads]):
            _not_a_member(report, organization, answered)
            report.skip(api_checks, "access to the organization")
            return
        if not _check_credential(report, first, answered):
            report.skip(api_checks, "an accepted credential")
            return
        for scope, read in zip(others, reads, strict=True):
            _check_scope(report, scope, read)
        await _check_managed_account(report, client, settings)
    if not settings.read_only:
        await _check_write_scopes(report, settings, org_id, per_check)


async def _read(client: AnyreachClient, scope: ReadScope) -> AnyreachError | None:
    """The scope's probe: None when it answered, else how it failed."""
    try:
        await scope.probe(client)
    except AnyreachError as failure:
        return failure
    return None


def _authenticated(answered: AnyreachError | None) -> bool:
    return answered is None or isinstance(answered, PermissionDeniedError)


def _not_a_member(report: CheckList, organization: Organization, refused: AnyreachError | None) -> None:
    detail = refused.detail if isinstance(refused, PermissionDeniedError) and refused.detail else "no detail given"
    report.add(
        "credential",
        "fail",
        f"this token's user is not a member of {shown(organization)}: the API refused every read there (403: {detail})",
        f"ANYREACH_ORG_ID lists an organization this token's user is not in: remove {organization.id} from "
        f"ANYREACH_ORG_ID, or have the user added to {shown(organization)}.",
    )


def _check_credential(report: CheckList, scope: ReadScope, answered: AnyreachError | None) -> bool:
    """The first read both proves the credential and tests its scope: a 403 comes only after authentication."""
    if isinstance(answered, AuthenticationError):
        report.add(
            "credential",
            "fail",
            f"the API refused the credential (401: {answered.detail})",
            "Check ANYREACH_TOKEN (revoked or mistyped?); a pat_ token also needs ANYREACH_ORG_ID of an "
            "organization it belongs to.",
        )
        return False
    if answered is not None and not isinstance(answered, PermissionDeniedError):
        report.add("credential", "fail", f"the API did not answer usably: {answered}", _api_fix(answered))
        return False
    report.add("credential", "ok", "accepted")
    _check_scope(report, scope, answered)
    return True


def _check_scope(report: CheckList, scope: ReadScope, answered: AnyreachError | None) -> None:
    if isinstance(answered, PermissionDeniedError):
        _scope_missing(report, scope)
    elif answered is not None:
        report.add(f"scope {scope.scope}", "fail", f"could not be checked: {answered}", _api_fix(answered))
    else:
        report.add(f"scope {scope.scope}", "ok", f"granted; {scope.used_by} work")


def _scope_missing(report: CheckList, scope: ReadScope) -> None:
    report.add(
        f"scope {scope.scope}",
        "fail",
        f"the credential lacks {scope.scope}, so {scope.used_by} fail",
        f"Use a key that has {scope.scope} (or {scope.scope.replace(':read', ':manage')}).",
    )


async def _check_managed_account(report: CheckList, client: AnyreachClient, settings: Settings) -> None:
    scope = "scope managed_accounts:read"
    account = settings.managed_account_id
    if account is None:
        account = await _discover_managed_account(report, client, settings.read_only)
        if account is None:
            report.skip([scope], "a managed account")
            return
    try:
        await client.managed_accounts.search_numbers(account, limit=1)
    except PermissionDeniedError:
        if settings.managed_account_id:
            report.add("managed account", "ok", f"{account} (ANYREACH_MANAGED_ACCOUNT_ID, not verifiable)")
        report.add(
            scope,
            "fail",
            "the credential lacks managed_accounts:read, so search_available_numbers fails",
            "Use a key that has managed_accounts:read (and managed_accounts:manage to buy).",
        )
        return
    except NotFoundError:
        report.add(
            "managed account",
            "fail",
            f"{account} is not a managed account of this organization",
            "Fix ANYREACH_MANAGED_ACCOUNT_ID, or unset it to use the one on the organization's managed trunks.",
        )
        report.skip([scope], "a managed account")
        return
    except AnyreachError as failure:
        if settings.managed_account_id:
            report.add("managed account", "skip", f"{account} (ANYREACH_MANAGED_ACCOUNT_ID) could not be checked")
        report.add(scope, "fail", f"could not be checked: {failure}", _api_fix(failure))
        return
    if settings.managed_account_id:
        report.add("managed account", "ok", f"{account} (ANYREACH_MANAGED_ACCOUNT_ID)")
    report.add(scope, "ok", "granted; search_available_numbers works")


async def _discover_managed_account(report: CheckList, client: AnyreachClient, read_only: bool) -> str | None:
    try:
        account = await discover_managed_account(client)
    except PermissionDeniedError:
        report.add("managed account", "skip", "needs trunks:read to find it on the managed trunks")
        return None
    except AnyreachError as failure:
        report.add("managed account", "fail", f"could not list trunks: {failure}", _api_fix(failure))
        return None
    except NoSingleManagedAccount as unknown:
        _no_single_managed_account(report, unknown.found, "warn" if read_only else "fail")
        return None
    report.add("managed account", "ok", f"{account}, found on the organization's managed trunks")
    return account


def _no_single_managed_account(report: CheckList, found: frozenset[str], status: Status) -> None:
    if found:
        report.add(
            "managed account",
            status,
            f"the managed trunks belong to several managed accounts: {', '.join(sorted(found))}",
            "Set ANYREACH_MANAGED_ACCOUNT_ID to the one to search and buy through.",
        )
    else:
        report.add(
            "managed account",
            status,
            "the organization has no managed trunk to find its managed account on",
            "Set ANYREACH_MANAGED_ACCOUNT_ID (Anyreach support can tell you its id); searching and buying need it.",
        )


def _api_fix(failure: AnyreachError) -> str:
    if isinstance(failure, APIConnectionError):
        return "The API stopped answering: check the network, then run doctor again."
    return "Run doctor again shortly; if it persists, contact Anyreach support with the request id above."


async def _check_write_scopes(report: CheckList, settings: Settings, org_id: str | None, per_check: float) -> None:
    assert settings.token is not None
    headers = {"Authorization": f"Bearer {settings.token.get_secret_value()}", "Accept": "application/json"}
    if org_id is not None:
        headers["X-Anyreach-Org"] = org_id
    # Its own bare client, so the read-only client above stays unable to write and these two POSTs are all it sends.
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


def _check_files(report: Report, settings: Settings) -> None:
    files = (
        ("audit log", settings.audit_log, "--audit-log / MCP_ANYREACH_AUDIT_LOG"),
        ("token store", settings.token_store, "--token-store / MCP_ANYREACH_TOKEN_STORE"),
    )
    for name, path, option in files:
        if path is None:
            report.add(name, "ok", f"not configured ({option})")
        elif settings.read_only:
            report.add(name, "skip", f"{path}: unused with --read-only (nothing is written)")
        elif (problem := _unwritable(path)) is not None:
            report.add(
                name, "fail", f"{path}: {problem}", f"Create the directory or fix its permissions, or change {option}."
            )
        else:
            report.add(name, "ok", f"{path} is writable")


def _unwritable(path: Path) -> str | None:
    """Why the server could not write `path` (or create it, with SQLite's journal beside it), or None."""
    if path.is_dir():
        return "is a directory"
    if path.exists():
        return None if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK) else "is not writable"
    if not path.parent.is_dir():
        return f"its directory {path.parent} does not exist"
    return None if os.access(path.parent, os.W_OK) else f"its directory {path.parent} is not writable"


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
