"""Header builders shared by the sandbox tests."""

from __future__ import annotations

from mcp_anyreach.sandbox import DemoOrg


def key(org: DemoOrg) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.api_key}"}


def pat(org: DemoOrg) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.pat}", "X-Anyreach-Org": org.org_id}


def read_only(org: DemoOrg) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.read_only_key}"}
