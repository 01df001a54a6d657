"""Agents named the way people name them (an id or a name, a version or the latest published one)."""

from __future__ import annotations

from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.api.models import Agent
from mcp_anyreach.changes.model import AgentSlot
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.text import named, shown


def find_agent(directory: AgentDirectory, ref: str) -> Agent:
    """The agent with this id, or else this name (case-insensitive, and then it must be unique)."""
    if (agent := directory.agent(ref)) is not None:
        return agent
    same_name = [agent for agent in directory.agents if agent.name.casefold() == ref.casefold()]
    if len(same_name) == 1:
        return same_name[0]
    if same_name:
        ids = ", ".join(agent.id for agent in same_name)
        raise Refusal(f"Several agents are named {shown(ref)!r} ({ids}); name the agent by its id instead.")
    known = ", ".join(repr(named(agent.name)) for agent in directory.agents[:10])
    raise Refusal(f"No agent has the id or name {shown(ref)!r}. Known agents: {known or 'none'}.")


def agent_slot(directory: AgentDirectory, ref: str, version: int | None) -> AgentSlot:
    """One version of an agent; without `version`, its latest published one."""
    agent = find_agent(directory, ref)
    versions = directory.versions_of(agent.id)
    if version is None:
        chosen = directory.latest_published(agent.id)
        if chosen is None:
            raise Refusal(
                f"Agent {named(agent.name)!r} ({agent.id}) has no published version; name a version to publish."
            )
    else:
        chosen = next((v for v in versions if v.version == version), None)
        if chosen is None:
            numbers = ", ".join(str(v.version) for v in versions) or "none"
            raise Refusal(
                f"Agent {named(agent.name)!r} ({agent.id}) has no version {version}; its versions: {numbers}."
            )
    draft = "" if chosen.published else " (a draft: publishing it makes it live)"
    return AgentSlot(agent.id, chosen.version, chosen.id, f"{named(agent.name)!r} v{chosen.version}{draft}")


def current_slot(directory: AgentDirectory, version_id: str | None, where: str) -> AgentSlot | None:
    """What a slot holds now, as an agent and version that can be published again; `where` names the slot."""
    if version_id is None:
        return None
    ref = directory.resolve(version_id)
    if ref is None:
        raise Refusal(
            f"The {where} holds agent version {shown(version_id)}, which the agent directory does not know, so it "
            "could not be restored after the change. Assign a known agent to it first."
        )
    return AgentSlot(ref.agent_id, ref.version, ref.version_id, f"{named(ref.agent_name)!r} v{ref.version}")
