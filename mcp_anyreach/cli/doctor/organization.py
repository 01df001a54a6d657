"""Everything the API answers in one organization, in order: the "credential" (or membership), the read scopes,
the managed account, and for a read-write server the write scopes.

The reads go through a read-only client that sends the organization's X-Anyreach-Org; the first read both proves
the credential and tests its scope, since a 403 comes only after authentication. In one of several
organizations, a 403 to every read means the token's user is not a member there, which is said as such rather
than as four missing scopes. The checks themselves live in `scopes` and `managed_account`.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcp_anyreach.api import AnyreachClient, AnyreachError, AuthenticationError, PermissionDeniedError
from mcp_anyreach.cli.doctor.managed_account import check_managed_account
from mcp_anyreach.cli.doctor.report import CheckList, api_fix
from mcp_anyreach.cli.doctor.scopes import READ_SCOPES, ReadScope, check_scope, check_write_scopes, read_scope
from mcp_anyreach.cli.organizations import shown
from mcp_anyreach.settings import Organization, Settings

API_CHECKS = [f"scope {scope.scope}" for scope in READ_SCOPES] + ["managed account", "scope managed_accounts:read"]


async def check_organization(
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
        answered = await read_scope(client, first)
        # Only a read that got past authentication (granted or refused for its scope) makes the others worth sending.
        reads = [await read_scope(client, scope) for scope in others] if _authenticated(answered) else []
        if organization is not None and all(isinstance(read, PermissionDeniedError) for read in [answered, *reads]):
            _not_a_member(report, organization, answered)
            report.skip(api_checks, "access to the organization")
            return
        if not _check_credential(report, first, answered):
            report.skip(api_checks, "an accepted credential")
            return
        for scope, read in zip(others, reads, strict=True):
            check_scope(report, scope, read)
        await check_managed_account(report, client, settings)
    if not settings.read_only:
        await check_write_scopes(report, settings, org_id, per_check)


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
        report.add("credential", "fail", f"the API did not answer usably: {answered}", api_fix(answered))
        return False
    report.add("credential", "ok", "accepted")
    check_scope(report, scope, answered)
    return True
