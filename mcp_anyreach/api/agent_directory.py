"""Who answers a number: one snapshot of the organization's agents and versions, to name many `agv_…` ids.

A number's slots hold only an opaque version id. `Agents.directory()` lists the agents and their versions
once; the snapshot then resolves any number of ids without another request, so a caller can keep it for a
while and label a whole inventory with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mcp_anyreach.api.models import Agent, AgentVersion, latest_published

__all__ = ["AgentDirectory", "AgentVersionRef"]


@dataclass(frozen=True)
class AgentVersionRef:
    """What an `agv_…` id stands for."""

    version_id: str
    agent_id: str
    agent_name: str
    version: int
    published: bool
    agent_active: bool

    @property
    def label(self) -> str:
        """`Support v2`: the agent's name and the version number."""
        return f"{self.agent_name} v{self.version}"


class AgentDirectory:
    """An immutable snapshot of the agents and their versions, indexed by agent id and by version id."""

    def __init__(self, agents: Iterable[Agent], versions: Mapping[str, Iterable[AgentVersion]]) -> None:
        self._agents = tuple(agents)
        self._by_agent_id = {agent.id: agent for agent in self._agents}
        self._versions = {
            agent.id: tuple(sorted(versions.get(agent.id, ()), key=lambda version: version.version))
            for agent in self._agents
        }
        self._refs = {
            version.id: AgentVersionRef(
                version_id=version.id,
                agent_id=agent.id,
                agent_name=agent.name,
                version=version.version,
                published=version.published,
                agent_active=agent.active,
            )
            for agent in self._agents
            for version in self._versions[agent.id]
        }

    @property
    def agents(self) -> tuple[Agent, ...]:
        """Every agent, in the API's order (oldest first)."""
        return self._agents

    def agent(self, agent_id: str) -> Agent | None:
        return self._by_agent_id.get(agent_id)

    def versions_of(self, agent_id: str) -> tuple[AgentVersion, ...]:
        """The agent's versions by number; empty for an unknown agent."""
        return self._versions.get(agent_id, ())

    def latest_published(self, agent_id: str) -> AgentVersion | None:
        return latest_published(self.versions_of(agent_id))

    def resolve(self, version_id: str | None) -> AgentVersionRef | None:
        """The agent and version number behind a slot's `agv_…` id; None for an empty slot or an unknown id."""
        return None if version_id is None else self._refs.get(version_id)

    def __len__(self) -> int:
        return len(self._agents)
