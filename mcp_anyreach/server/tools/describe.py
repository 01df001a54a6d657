"""Sentences for confirmation summaries: what a person needs to judge a change."""

from __future__ import annotations

from mcp_anyreach.api import PhoneNumber
from mcp_anyreach.server.text import shown


def describe_number(number: PhoneNumber) -> str:
    inbound = (
        f"Inbound calls are answered by agent version {shown(number.inbound_agent_version_id)}."
        if number.inbound_agent_version_id
        else "No agent answers its inbound calls."
    )
    outbound = (
        f" Agent version {shown(number.outbound_agent_version_id)} places outbound calls from it."
        if number.outbound_agent_version_id
        else ""
    )
    return f"It is on trunk {shown(number.trunk_id)}. {inbound}{outbound}"
