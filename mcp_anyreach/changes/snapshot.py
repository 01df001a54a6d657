"""What the account looks like now, read once for a plan, and the digests that tell whether it moved since."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass

from pydantic import BaseModel

from mcp_anyreach.api import AnyreachClient, InboundRoutingConfig, NotFoundError, PhoneNumber, Trunk
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.uris import NUMBERS_URI, ROUTING_URI, TRUNKS_URI, number_uri, trunk_uri

PAGE_SIZE = 100


@dataclass(frozen=True)
class Snapshot:
    numbers: dict[str, PhoneNumber]
    trunks: dict[str, Trunk]
    routing: InboundRoutingConfig | None
    directory: AgentDirectory

    def trunk_named(self, name: str) -> Trunk | None:
        """The trunk with this exact name; Refusal when several share it (names are not unique in the API)."""
        found = [trunk for trunk in self.trunks.values() if trunk.name == name]
        if len(found) > 1:
            ids = ", ".join(trunk.id for trunk in found)
            raise Refusal(f"Several trunks are named {name!r} ({ids}); rename them so each name is unique.")
        return found[0] if found else None

    def numbers_on(self, trunk_id: str) -> list[PhoneNumber]:
        return [number for number in self.numbers.values() if number.trunk_id == trunk_id]

    def digest(self, uri: str) -> str | None:
        """The digest of what `uri` names in this snapshot; None when it does not exist."""
        return digest_of(self.record(uri))

    def record(self, uri: str) -> object:
        """What `uri` names in this snapshot (None: absent)."""
        if uri == ROUTING_URI:
            return self.routing
        if uri.startswith(NUMBERS_URI + "/"):
            return self.numbers.get(uri.removeprefix(NUMBERS_URI + "/"))
        if uri.startswith(TRUNKS_URI + "/"):
            return self.trunks.get(uri.removeprefix(TRUNKS_URI + "/"))
        raise ValueError(f"not a resource a plan can touch: {uri}")


async def read_snapshot(client: AnyreachClient) -> Snapshot:
    """Every trunk and number, the routing config and the agent directory; AnyreachError when the API fails."""
    trunks = {trunk.id: trunk async for trunk in client.trunks.iter(page_size=PAGE_SIZE)}
    numbers = {number.phone_number: number async for number in client.phone_numbers.iter(page_size=PAGE_SIZE)}
    routing = await client.inbound_routing.get()
    directory = await client.agents.directory()
    return Snapshot(numbers=numbers, trunks=trunks, routing=routing, directory=directory)


async def observe(client: AnyreachClient, uris: Iterable[str]) -> dict[str, str | None]:
    """The current digest of each URI, read as cheaply as the count allows (one GET each, or whole lists)."""
    wanted = list(dict.fromkeys(uris))
    found = await read_records(client, wanted)
    return {uri: digest_of(found.get(uri)) for uri in wanted}


async def read_records(client: AnyreachClient, uris: Iterable[str]) -> dict[str, object]:
    """What each URI names now (absent: not in the answer), read as cheaply as the count allows."""
    wanted = list(dict.fromkeys(uris))
    numbers = [uri for uri in wanted if uri.startswith(NUMBERS_URI + "/")]
    trunks = [uri for uri in wanted if uri.startswith(TRUNKS_URI + "/")]
    found: dict[str, object] = {}
    if len(numbers) > PAGE_SIZE // 10:
        async for number in client.phone_numbers.iter(page_size=PAGE_SIZE):
            found[number_uri(number.phone_number)] = number
    else:
        for uri in numbers:
            found[uri] = await _get_or_none(client.phone_numbers.get(uri.removeprefix(NUMBERS_URI + "/")))
    if trunks:
        async for trunk in client.trunks.iter(page_size=PAGE_SIZE):
            found[trunk_uri(trunk.id)] = trunk
    if ROUTING_URI in wanted:
        found[ROUTING_URI] = await client.inbound_routing.get()
    return found


async def _get_or_none(pending: Awaitable[PhoneNumber]) -> PhoneNumber | None:
    try:
        return await pending
    except NotFoundError:
        return None


def digest_of(record: object) -> str | None:
    if record is None:
        return None
    data = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]
