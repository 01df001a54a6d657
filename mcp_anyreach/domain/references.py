"""A name given where an id is expected: answered with the id, never with "there is no such thing".

Models pass what a person says ("assign Support", "move them to the Main PBX trunk"). A refusal that
claims the agent or trunk does not exist sends the model off to create one. So when a call that takes an
agent or trunk id fails, each such argument is looked up by name (exact, case-insensitive): a unique match
answers with the id to pass, several list the candidates with their ids. The lookup runs only after a
failure, so a correct call costs nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from mcp_anyreach.api import AnyreachClient, AnyreachError, BadRequestError, NotFoundError, UnprocessableEntityError
from mcp_anyreach.domain.agent_names import AgentNames
from mcp_anyreach.domain.text import listed, named, shown

Kind = Literal["agent", "trunk"]
REFERENCES: Mapping[str, Kind] = {
    "agent_id": "agent",
    "fallback_agent_id": "agent",
    "inbound_agent": "agent",
    "outbound_agent": "agent",
    "trunk_id": "trunk",
    "to_trunk_id": "trunk",
    "from_trunk_id": "trunk",
}
_NOT_NAMES = frozenset({"none", "any"})  # the slot filters' and fallback's keywords
# Refusals that say something about the value; any other API failure would fail the lookup too.
_ABOUT_THE_VALUE = (NotFoundError, BadRequestError, UnprocessableEntityError)
_CHAIN_LIMIT = 20


def name_instead_of_id(kind: Kind, argument: str, value: str, things: Iterable[tuple[str, str]]) -> str | None:
    """The refusal for `value` when it is the name, not the id, of one or more of `things` ((id, name) pairs)."""
    things = list(things)
    if any(thing_id == value for thing_id, _ in things):
        return None
    wanted = value.strip().casefold()
    matches = [(thing_id, name) for thing_id, name in things if name.strip().casefold() == wanted]
    if not matches:
        return None
    if len(matches) == 1:
        thing_id = shown(matches[0][0])
        return f"{named(value)!r} is the name of the {kind} {thing_id}, not its id: pass {argument}={thing_id!r}."
    candidates = listed([f"{shown(thing_id)} ({named(name)!r})" for thing_id, name in matches])
    return f"{named(value)!r} names {len(matches)} {kind}s: {candidates}. Pass the id of the one meant as {argument}."


async def names_given_as_ids(
    client: AnyreachClient, agent_names: AgentNames, arguments: Mapping[str, Any], failure: BaseException
) -> str | None:
    """Why a failed call failed when one of its id arguments is an agent's or trunk's name; None otherwise."""
    given = {
        name: value
        for name, value in arguments.items()
        if name in REFERENCES and isinstance(value, str) and value.casefold() not in _NOT_NAMES
    }
    if not given or _api_failed(failure):
        return None
    known: dict[Kind, list[tuple[str, str]] | None] = {}
    for argument, value in given.items():
        kind = REFERENCES[argument]
        if kind not in known:
            known[kind] = await _directory(client, agent_names, kind)
        things = known[kind]
        if things is not None and (message := name_instead_of_id(kind, argument, value, things)):
            return message
    return None


async def _directory(client: AnyreachClient, agent_names: AgentNames, kind: Kind) -> list[tuple[str, str]] | None:
    """Every agent's or trunk's (id, name); None when they cannot be read (the original refusal then stands)."""
    if kind == "agent":
        directory = await agent_names.directory()
        return None if directory is None else [(agent.id, agent.name) for agent in directory.agents]
    try:
        return [(trunk.id, trunk.name) async for trunk in client.trunks.iter()]
    except AnyreachError:
        return None


def _api_failed(failure: BaseException) -> bool:
    """Whether the API failed (unreachable, rate limited, refused the credential) rather than refused the value."""
    seen: BaseException | None = failure
    for _ in range(_CHAIN_LIMIT):
        if seen is None:
            break
        if isinstance(seen, AnyreachError) and not isinstance(seen, _ABOUT_THE_VALUE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
