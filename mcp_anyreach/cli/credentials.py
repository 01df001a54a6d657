"""What can be told about an Anyreach credential from its shape alone, before any request is sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

TOKEN_PREFIXES = ("ak_", "pat_")


class CredentialProblem(NamedTuple):
    """What is wrong with a credential, and how to fix it; neither ever contains the token."""

    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.problem}. {self.fix}"


def credential_problem(token: str, organization_ids: Sequence[str]) -> CredentialProblem | None:
    """Why the API would refuse this token by its form alone (a 401 on every call), or None when it looks right.
    `organization_ids` are the organizations ANYREACH_ORG_ID names (a pat_ acts in any of its user's)."""
    if token != token.strip() or any(character.isspace() for character in token):
        return CredentialProblem(
            "ANYREACH_TOKEN contains spaces or line breaks",
            "Copy the token again without surrounding quotes, spaces or a trailing newline.",
        )
    if not token.startswith(TOKEN_PREFIXES):
        return CredentialProblem(
            "ANYREACH_TOKEN is neither an API key (ak_...) nor a personal access token (pat_...)",
            "Create an API key in the Anyreach dashboard and set ANYREACH_TOKEN to it.",
        )
    if token in TOKEN_PREFIXES:
        return CredentialProblem("ANYREACH_TOKEN holds only its prefix", "Set ANYREACH_TOKEN to the whole token.")
    if token.startswith("pat_") and not organization_ids:
        return CredentialProblem(
            "a personal access token (pat_...) needs the organization it acts for",
            "Set ANYREACH_ORG_ID to the organization id, or use an organization API key (ak_...) instead.",
        )
    return None
