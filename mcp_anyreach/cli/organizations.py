"""Which organization a command acts in: with several in ANYREACH_ORG_ID, the one a run chooses, never a default.

A run chooses with `--organization` (an id or an exact name) or with its document's top-level `organization:`;
when both are given they must pick the same one. With one organization configured (or none: an ak_ key's own,
or the embedded sandbox's demo organization) a run needs no choice, and one that names another is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.settings import Organization, Settings

HOW_TO_CHOOSE = "choose one with --organization ORG (an id or a name), or name it in the document as organization: ORG"


def shown(organization: Organization) -> str:
    """How output names an organization: its name and id, or its id alone when that is its name."""
    if organization.name == organization.id:
        return organization.id
    return f"{organization.name} ({organization.id})"


def find_organization(organizations: Sequence[Organization], wanted: str) -> Organization | None:
    """The organization whose id or exact name is `wanted` (ANYREACH_ORG_ID keeps ids and names distinct)."""
    return next(
        (organization for organization in organizations if wanted in (organization.id, organization.name)), None
    )


def choose_organization(settings: Settings, *, option: str | None, document: str | None = None) -> Organization | None:
    """The organization this run acts in where several are configured; None where at most one is (the run acts in
    that one). Raises a Refusal saying what to do when the choice is missing, unknown or contradicted."""
    configured = settings.organizations
    picked: list[tuple[str, Organization]] = []
    for source, wanted in (("--organization", option), ("the document's organization:", document)):
        if wanted is None:
            continue
        found = find_organization(configured, wanted)
        if found is None:
            raise Refusal(f"{source} names {wanted!r}, which is not {_configured(configured)}; nothing was done.")
        picked.append((source, found))
    if len(picked) == 2 and picked[0][1] != picked[1][1]:
        raise Refusal(
            f"The document is for organization {shown(picked[1][1])}, but --organization chose "
            f"{shown(picked[0][1])}; nothing was done. Run it with --organization {picked[1][1].id}, or change the "
            "document's organization: if it really belongs to the other."
        )
    if len(configured) <= 1:
        return None
    if not picked:
        raise Refusal(
            f"ANYREACH_ORG_ID names {len(configured)} organizations ({', '.join(map(shown, configured))}), and "
            f"this run does not say which one it is for: {HOW_TO_CHOOSE}. Nothing was done."
        )
    return picked[0][1]


def _configured(configured: Sequence[Organization]) -> str:
    if not configured:
        return (
            "known here: ANYREACH_ORG_ID is not set, so the organization the credential acts in is not named; set "
            "ANYREACH_ORG_ID to it to run this"
        )
    return f"an id or a name ANYREACH_ORG_ID gives (it names {', '.join(map(shown, configured))})"
