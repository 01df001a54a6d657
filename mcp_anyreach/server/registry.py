"""The one table that says what each tool does to the world.

Annotations, the read-only filter, toolset selection and the confirmation gates all read it, so they
cannot drift apart. A row also says where its code is: the tool is `async def <name>` in
`server/tools/<toolset>.py` and a gated row's preview is `preview_<name>` beside it (found by
`tool_factory.find_tools`). Adding a tool is its row and its functions; nothing else lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from mcp_types import ToolAnnotations

Kind = Literal["read", "write", "spend", "destroy"]
Toolset = Literal["numbers", "purchasing", "trunks", "routing", "agents", "audit", "changes"]
TOOLSETS: tuple[Toolset, ...] = ("numbers", "purchasing", "trunks", "routing", "agents", "audit", "changes")


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    title: str
    toolset: Toolset
    kind: Kind
    gated: bool = False
    idempotent: bool = False
    several_organizations: bool = False
    """Only served by a server of several organizations, and acting in none of them (it lists them)."""

    @property
    def annotations(self) -> ToolAnnotations:
        reads = self.kind == "read"
        return ToolAnnotations(
            title=self.title,
            read_only_hint=reads,
            destructive_hint=self.kind == "destroy" or (self.kind == "write" and self.gated),
            idempotent_hint=reads or self.idempotent,
            open_world_hint=True,
        )


SPECS: tuple[ToolSpec, ...] = (
    ToolSpec("list_phone_numbers", "List phone numbers", "numbers", "read"),
    ToolSpec("get_phone_number", "Get a phone number", "numbers", "read"),
    ToolSpec("register_phone_number", "Register a BYOC phone number", "numbers", "write"),
    ToolSpec("update_phone_number", "Set outbound sharing of a number", "numbers", "write", idempotent=True),
    ToolSpec("delete_phone_number", "Delete a phone number", "numbers", "destroy", gated=True, idempotent=True),
    ToolSpec("move_phone_numbers", "Move numbers to another trunk", "numbers", "write", gated=True, idempotent=True),
    ToolSpec("delete_phone_numbers", "Delete many phone numbers", "numbers", "destroy", gated=True, idempotent=True),
    ToolSpec("search_available_numbers", "Search numbers to buy", "purchasing", "read"),
    ToolSpec("purchase_phone_number", "Buy a phone number", "purchasing", "spend", gated=True),
    ToolSpec("list_trunks", "List SIP trunks", "trunks", "read"),
    ToolSpec("get_trunk", "Get a SIP trunk", "trunks", "read"),
    ToolSpec("create_trunk", "Create a BYOC SIP trunk", "trunks", "write", gated=True),
    ToolSpec("update_trunk", "Update a BYOC SIP trunk", "trunks", "write", gated=True, idempotent=True),
    ToolSpec("delete_trunk", "Delete a BYOC SIP trunk", "trunks", "destroy", gated=True, idempotent=True),
    ToolSpec("get_inbound_routing_config", "Get inbound routing", "routing", "read"),
    ToolSpec("explain_inbound_call", "Explain who answers a call", "routing", "read"),
    ToolSpec("create_inbound_routing_config", "Create inbound routing", "routing", "write", gated=True),
    ToolSpec(
        "update_inbound_routing_config",
        "Update inbound routing",
        "routing",
        "write",
        gated=True,
        idempotent=True,
    ),
    ToolSpec(
        "delete_inbound_routing_config",
        "Delete inbound routing",
        "routing",
        "destroy",
        gated=True,
        idempotent=True,
    ),
    ToolSpec("list_agents", "List agents", "agents", "read"),
    ToolSpec("get_agent", "Get an agent", "agents", "read"),
    ToolSpec(
        "assign_agent_to_numbers",
        "Assign an agent to numbers",
        "agents",
        "write",
        gated=True,
        idempotent=True,
    ),
    ToolSpec("audit_inventory", "Audit telephony inventory", "audit", "read"),
    ToolSpec("plan_changes", "Plan a change set", "changes", "read"),
    ToolSpec("apply_changes", "Apply a planned change set", "changes", "destroy", gated=True),
)
ORGANIZATION_SPECS: tuple[ToolSpec, ...] = (
    ToolSpec("list_organizations", "List organizations", "audit", "read", several_organizations=True),
)
"""Served beside SPECS only by a server of several organizations."""
SPEC_BY_NAME: dict[str, ToolSpec] = {spec.name: spec for spec in (*SPECS, *ORGANIZATION_SPECS)}


def select_tools(
    *,
    read_only: bool,
    toolsets: Sequence[str] | None = None,
    tools: Sequence[str] | None = None,
    several_organizations: bool = False,
) -> list[ToolSpec]:
    """The tools to register: the union of the named toolsets and tools (all when neither is given).

    Read-only wins over any explicit selection. Unknown names raise ValueError naming the valid ones. A server of
    several organizations always lists them (every other tool needs one of their names).
    """
    _check_names(toolsets or (), TOOLSETS, "toolset")
    _check_names(tools or (), SPEC_BY_NAME, "tool")
    chosen = [
        spec
        for spec in SPECS
        if (not toolsets and not tools) or spec.toolset in (toolsets or ()) or spec.name in (tools or ())
    ] + list(ORGANIZATION_SPECS if several_organizations else ())
    return [spec for spec in chosen if spec.kind == "read"] if read_only else chosen


def _check_names(given: Iterable[str], valid: Iterable[str], what: str) -> None:
    valid = list(valid)
    unknown = [name for name in given if name not in valid]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)}; choose from {', '.join(valid)}")
