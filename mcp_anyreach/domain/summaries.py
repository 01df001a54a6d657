"""Sentences for previews and results: what a person needs to judge a number or a routing config."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mcp_anyreach.api import PhoneNumber
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.domain.args import MAX_JSON_BYTES
from mcp_anyreach.domain.records import agent_named
from mcp_anyreach.domain.text import shown
from mcp_anyreach.domain.uris import ROUTING_URI
from mcp_anyreach.domain.workflows import unverified

# A definition a model may write (at most MAX_JSON_BYTES of UTF-8) escaped to ASCII: at most 6 characters a
# byte (\u0001). Only a definition the API already holds can be longer; a preview clips it, saying so.
WHOLE_DEFINITION = 6 * MAX_JSON_BYTES
WITHOUT_ROUTING = "Without routing, each number's own inbound agent answers, and numbers without one disconnect."


def number_sentence(number: PhoneNumber, agents: AgentDirectory | None = None) -> str:
    inbound = (
        f"Inbound calls are answered by agent {shown(agent_named(agents, number.inbound_agent_version_id))}."
        if number.inbound_agent_version_id
        else "No agent answers its inbound calls."
    )
    outbound = (
        f" Agent {shown(agent_named(agents, number.outbound_agent_version_id))} places outbound calls from it."
        if number.outbound_agent_version_id
        else ""
    )
    return f"It is on trunk {shown(number.trunk_id)}. {inbound}{outbound}"


def switched_off(name: str, agent_id: str, phone_numbers: list[str]) -> str:
    """The warning for putting an agent whose `active` is false on numbers."""
    return (
        f"WARNING: agent {name!r} ({shown(agent_id)}) is switched off (active: false); calls to or from "
        f"{', '.join(phone_numbers)} would reach an agent that is not active. Pick an active agent (list_agents)."
    )


def routing_sentence(config: Mapping[str, Any], *, whole: bool = True) -> str:
    """What a routing config does to every inbound call. A preview shows an inline workflow whole (what a
    model writes is capped at MAX_JSON_BYTES, and a `transfer_to` past a cut would go unseen); a result
    that only reports the config (`whole=False`) clips it."""
    if config.get("enabled") is False:
        return f"routing disabled. {WITHOUT_ROUTING}"
    workflow = shown(config["workflow_id"]) if config.get("workflow_id") else None
    version = shown(config["workflow_version"]) if config.get("workflow_version") else None
    definition = _definition(config.get("workflow_definition"), WHOLE_DEFINITION if whole else 240)
    runs = (
        f"workflow {workflow} ({f'version {version}' if version else 'latest version'})"
        if workflow
        else f"the inline workflow {definition}"
    )
    fallback = shown(config["fallback_agent_id"]) if config.get("fallback_agent_id") else None
    on_failure = f"agent {fallback} answers" if fallback else "the call is disconnected"
    reason = unverified(config)
    check = f"; {reason}" if reason else "; its output fields match the documented ones"
    return f"every inbound call runs {runs} to choose the agent; if it fails, {on_failure}{check}"


def _definition(definition: object, limit: int) -> str:
    """The workflow as JSON (non-ASCII escaped, so nothing in it hides), clipped beyond `limit`, saying so."""
    text = json.dumps(definition, separators=(",", ":"))
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [clipped: {len(text):,} characters; the {ROUTING_URI} resource has all of it]"


def merged_routing(before: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The config after an update: naming one kind of workflow replaces the other."""
    if changes.get("workflow_id") is not None:
        before = {**before, "workflow_definition": None, "workflow_version": None}
    if changes.get("workflow_definition") is not None:
        before = {**before, "workflow_id": None, "workflow_version": None}
    return {**before, **changes}
