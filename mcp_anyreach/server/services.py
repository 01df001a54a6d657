"""The dependency container every tool, resource and preview receives, one per organization the server serves."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import quote

from mcp.server.mcpserver.exceptions import ToolError

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.store import MemoryPlans, PlanStore
from mcp_anyreach.changes.undo_store import MemoryUndo, UndoStore
from mcp_anyreach.domain.agent_names import AgentNames
from mcp_anyreach.domain.managed_account import ManagedAccount
from mcp_anyreach.server.gate.gatekeeper import Gatekeeper
from mcp_anyreach.server.notify import SERVED_UNDER
from mcp_anyreach.settings import ALL_ORGANIZATIONS, UNNAMED, Organization, Settings
from mcp_anyreach.shared_state.purchases import Purchases

ORGANIZATION = "organization"
"""The argument every tool that acts in an organization takes when the server serves several."""
ALL = ALL_ORGANIZATIONS


@dataclass(frozen=True)
class Services:
    client: AnyreachClient
    settings: Settings
    gatekeeper: Gatekeeper
    sandbox: bool
    purchases: Purchases
    managed_account: ManagedAccount
    agent_names: AgentNames
    plans: PlanStore = field(default_factory=MemoryPlans)  # between plan_changes and apply_changes
    undo: UndoStore = field(default_factory=MemoryUndo)  # what applied changes replaced, for their undo
    organization: Organization | None = None
    """Named only when the server serves several organizations: then previews and results say which."""


@dataclass(frozen=True)
class Organizations:
    """The services of each organization one server acts in, in the configured order."""

    by_organization: Mapping[Organization, Services]

    @classmethod
    def of(cls, services: Services | Organizations) -> Organizations:
        return services if isinstance(services, Organizations) else cls({UNNAMED: services})

    @property
    def several(self) -> bool:
        """Whether every call must name its organization (with one, nothing about the server changes)."""
        return len(self.by_organization) > 1

    @property
    def first(self) -> Services:
        return next(iter(self.by_organization.values()))

    def __iter__(self) -> Iterator[Services]:
        return iter(self.by_organization.values())

    def pick(self, value: object, *, allow_all: bool = False) -> Services:
        """The services of the organization `value` names by id or exact name; a ToolError listing them otherwise."""
        for organization, services in self.by_organization.items():
            if value in (organization.id, organization.name):
                return services
        choices = "; ".join(f"{org.name} (id {org.id})" for org in self.by_organization)
        also = f', or "{ALL}" for every one' if allow_all else ""
        given = "No organization given" if value is None else f"{value!r} is not an organization this server serves"
        raise ToolError(
            f"{given}. Set {ORGANIZATION} to one of: {choices}{also}. Nothing was read or changed "
            "(list_organizations lists them)."
        )


_current: ContextVar[Services | None] = ContextVar("mcp_anyreach_organization", default=None)


def current(default: Services) -> Services:
    """The services of the organization the call running now names (`acting_in`), else `default`."""
    return _current.get() or default


@contextmanager
def acting_in(services: Services) -> Generator[None]:
    """Everything the call does from here on (its gate's preview, question and token, its audit line and the
    tool itself) acts in `services`' organization."""
    token = _current.set(services)
    named = services.organization
    served = SERVED_UNDER.set(() if named is None else tuple(dict.fromkeys((named.id, quote(named.name, safe="")))))
    try:
        yield
    finally:
        SERVED_UNDER.reset(served)
        _current.reset(token)
