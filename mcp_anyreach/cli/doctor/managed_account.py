"""The "managed account" and "scope managed_accounts:read" checks of one organization: can the server search
and buy numbers there?

The account is ANYREACH_MANAGED_ACCOUNT_ID, or else the one the server would find on the organization's managed
trunks; one number search through it then tests the scope. Without a single account to search through,
searching and buying fail, which only a read-write server needs (a read-only one gets a warning).
"""

from __future__ import annotations

from mcp_anyreach.api import AnyreachClient, AnyreachError, NotFoundError, PermissionDeniedError
from mcp_anyreach.cli.doctor.report import CheckList, Status, api_fix
from mcp_anyreach.domain.managed_account import NoSingleManagedAccount, discover_managed_account
from mcp_anyreach.settings import Settings


async def check_managed_account(report: CheckList, client: AnyreachClient, settings: Settings) -> None:
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
        report.add(scope, "fail", f"could not be checked: {failure}", api_fix(failure))
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
        report.add("managed account", "fail", f"could not list trunks: {failure}", api_fix(failure))
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
