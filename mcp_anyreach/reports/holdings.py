"""What the API holds for each target of a change, read back after the change: one line per resource URI.

A person who confirmed a change through elicitation was shown its preview, but the model was not; after a
change set or a delete, the model reads here what the API now holds, so it can tell the person what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress

from mcp_anyreach.api import AnyreachClient, NotFoundError, PhoneNumber
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.domain.agent_names import AgentNames
from mcp_anyreach.domain.records import TrunkView
from mcp_anyreach.domain.summaries import number_sentence, routing_sentence
from mcp_anyreach.domain.text import named, shown
from mcp_anyreach.domain.uris import NUMBERS_URI, ROUTING_URI, TRUNKS_URI

ONE_BY_ONE = 5
"""More number targets than this are read from one pass over the directory instead of one request each."""


async def holdings(client: AnyreachClient, names: AgentNames, targets: Sequence[str]) -> list[str]:
    """One line per target: what the API holds now. A failed read raises; the gate says the change is done."""
    numbers = [uri.removeprefix(f"{NUMBERS_URI}/") for uri in targets if uri.startswith(f"{NUMBERS_URI}/")]
    held = await _numbers(client, numbers)
    agents = await names.directory()
    lines = [f"{number}: {_number(held.get(number), agents)}" for number in numbers]
    for uri in targets:
        if uri.startswith(f"{TRUNKS_URI}/"):
            lines.append(await _trunk(client, uri.removeprefix(f"{TRUNKS_URI}/")))
        elif uri == ROUTING_URI:
            config = await client.inbound_routing.get()
            routing = "none" if config is None else routing_sentence(config.model_dump(), whole=False)
            lines.append(f"Inbound routing: {routing}.")
    return lines


async def _numbers(client: AnyreachClient, numbers: Sequence[str]) -> dict[str, PhoneNumber]:
    if len(numbers) > ONE_BY_ONE:
        wanted = set(numbers)
        return {n.phone_number: n async for n in client.phone_numbers.iter() if n.phone_number in wanted}
    held: dict[str, PhoneNumber] = {}
    for number in numbers:
        with suppress(NotFoundError):
            held[number] = await client.phone_numbers.get(number)
    return held


def _number(number: PhoneNumber | None, agents: AgentDirectory | None) -> str:
    if number is None:
        return "not in the directory."
    shared = " Other agents may call out from it." if number.outbound_shareable else ""
    return number_sentence(number, agents) + shared


async def _trunk(client: AnyreachClient, trunk_id: str) -> str:
    try:
        trunk = await client.trunks.get(trunk_id)
    except NotFoundError:
        return f"Trunk {shown(trunk_id)}: deleted."
    view = TrunkView.of(trunk).model_dump_json(exclude={"id", "name"}, exclude_none=True)
    return f"Trunk {named(trunk.name)!r} ({shown(trunk_id)}): {view}"
