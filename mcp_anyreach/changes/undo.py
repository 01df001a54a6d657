"""What a change replaces, seen before it runs, and the record of what it left once it has run. MCP-free.

A desired-state document can name some numbers and trunks and leave the rest alone, so what a change replaces is
kept as a document fragment (`UndoBasis.document`): each number it touches with its trunk, sharing and both agent
slots, each trunk it updates or deletes with both sides (never a password: the API never returns one), the
routing config. What a document cannot say is kept beside it: the numbers and trunks the change creates (their
undo deletes them), and what no undo brings back (a released purchased number).

A change set's basis is made when it is planned (engine.py), a single call's from a read of just its targets
just before it writes (`capture`). Once the change has run, `record_undo` reads the targets again and keeps
their digests, so that the undo (undo_plan.py) refuses a target changed since instead of overwriting it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from mcp_anyreach.api import (
    AnyreachClient,
    AnyreachError,
    InboundConfig,
    NotFoundError,
    OutboundConfig,
    PhoneNumber,
    Trunk,
)
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.changes.actions import CreateTrunk, DeleteNumber
from mcp_anyreach.changes.model import SLOTS, Step, UndoBasis
from mcp_anyreach.changes.snapshot import PAGE_SIZE, Snapshot, digest_of, read_records
from mcp_anyreach.changes.trunk_plan import CONFIG_FIELDS
from mcp_anyreach.changes.undo_store import UndoRecord, UndoStore, new_undo_id
from mcp_anyreach.domain.uris import NUMBERS_URI, ROUTING_URI, TRUNKS_URI, number_uri, trunk_uri

# Fields that say when or where a record was written, not what it is: left out of "what changed since".
_BOOKKEEPING = {"created_at", "updated_at", "organization_id", "id"}


@dataclass(frozen=True)
class Touched:
    """What a change writes: numbers (and which it deletes), trunks it updates or deletes, trunks it creates (by
    name), and whether it writes the routing config."""

    phones: frozenset[str] = frozenset()
    deleted: frozenset[str] = frozenset()
    trunk_ids: frozenset[str] = frozenset()
    created_trunks: tuple[str, ...] = field(default=())
    routing: bool = False


def touched_by(steps: Iterable[Step]) -> Touched:
    phones: set[str] = set()
    deleted: set[str] = set()
    trunks: set[str] = set()
    created: list[str] = []
    routing = False
    for step in steps:
        for uri in step.targets:
            if uri == ROUTING_URI:
                routing = True
            elif uri.startswith(NUMBERS_URI + "/"):
                phones.add(uri.removeprefix(NUMBERS_URI + "/"))
            elif uri.startswith(TRUNKS_URI + "/"):
                trunks.add(uri.removeprefix(TRUNKS_URI + "/"))
        if isinstance(step.change, CreateTrunk):
            created.append(step.change.name)
        elif isinstance(step.change, DeleteNumber):
            deleted.add(step.change.phone_number)
    return Touched(frozenset(phones), frozenset(deleted), frozenset(trunks), tuple(created), routing)


def basis_of(snapshot: Snapshot, touched: Touched) -> UndoBasis:
    """What the touched targets are in `snapshot`, as an undo needs them."""
    before: dict[str, str | None] = {}
    trunk_items: list[dict[str, Any]] = []
    for trunk_id in sorted(touched.trunk_ids):
        before[trunk_uri(trunk_id)] = snapshot.digest(trunk_uri(trunk_id))
        trunk = snapshot.trunks.get(trunk_id)
        if trunk is not None and not trunk.managed_account_id:
            trunk_items.append(trunk_item(trunk))
    number_items: list[dict[str, Any]] = []
    created: list[str] = []
    lost: list[str] = []
    for phone in sorted(touched.phones):
        before[number_uri(phone)] = snapshot.digest(number_uri(phone))
        number = snapshot.numbers.get(phone)
        if number is None:
            created.append(phone)
            continue
        trunk = snapshot.trunks.get(number.trunk_id)
        if phone in touched.deleted and trunk is not None and trunk.managed_account_id:
            lost.append(
                f"{phone} was bought through Anyreach and is released: no undo can buy it back, nor register it as "
                "it was (search_available_numbers finds another number to buy)."
            )
            continue
        number_items.append(
            {
                "phone_number": phone,
                "trunk": trunk.name if trunk is not None else number.trunk_id,
                "outbound_shareable": number.outbound_shareable,
                "inbound_agent": _agent_ref(snapshot, number.inbound_agent_version_id),
                "outbound_agent": _agent_ref(snapshot, number.outbound_agent_version_id),
            }
        )
    document: dict[str, Any] = {"version": 1}
    if trunk_items:
        document["trunks"] = {"items": trunk_items}
    if number_items:
        document["numbers"] = {"items": number_items}
    if touched.routing:
        before[ROUTING_URI] = snapshot.digest(ROUTING_URI)
        document["routing"] = _routing_item(snapshot)
    names = {
        trunk.id: trunk.name
        for trunk in snapshot.trunks.values()
        if trunk.id in touched.trunk_ids or trunk.name in touched.created_trunks
    }
    return UndoBasis(
        document=document,
        before=before,
        trunks=names,
        created_numbers=created,
        created_trunks=list(touched.created_trunks),
        lost=lost,
    )


def trunk_item(trunk: Trunk) -> dict[str, Any]:
    """A BYOC trunk as a document writes it, every field of both sides (null clears what the undo must clear)."""
    return {
        "name": trunk.name,
        "inbound": _side("inbound", trunk.inbound_config),
        "outbound": _side("outbound", trunk.outbound_config),
    }


def _side(side: str, config: InboundConfig | OutboundConfig | None) -> dict[str, Any] | None:
    if config is None:
        return None
    data = config.model_dump(mode="json", include=set(CONFIG_FIELDS[side]))
    # The outbound side's fields cannot be null in a document; the inbound auth_username null clears it.
    return {name: value for name, value in data.items() if value is not None or side == "inbound"}


def _agent_ref(snapshot: Snapshot, version_id: str | None) -> dict[str, Any] | str | None:
    if version_id is None:
        return None
    ref = snapshot.directory.resolve(version_id)
    if ref is None:
        return version_id  # unknown to the directory: planning the undo will say so
    return {"agent": ref.agent_id, "version": ref.version}


def _routing_item(snapshot: Snapshot) -> dict[str, Any] | None:
    routing = snapshot.routing
    if routing is None:
        return None
    return {
        "enabled": routing.enabled,
        "workflow_id": routing.workflow_id,
        "workflow_version": routing.workflow_version,
        "workflow_definition": routing.workflow_definition,
        "fallback_agent": routing.fallback_agent_id,
    }


async def capture(client: AnyreachClient, touched: Touched) -> UndoBasis:
    """The basis of a single call's change: its targets read just before it writes (every trunk, for names)."""
    trunks = {trunk.id: trunk async for trunk in client.trunks.iter(page_size=PAGE_SIZE)}
    numbers: dict[str, PhoneNumber] = {}
    for phone in sorted(touched.phones):
        try:
            numbers[phone] = await client.phone_numbers.get(phone)
        except NotFoundError:
            continue
    routing = await client.inbound_routing.get() if touched.routing else None
    directory = AgentDirectory((), {})
    if touched.phones or touched.routing:
        # A credential without agents:read: slots are kept by version id, which planning the undo names.
        with contextlib.suppress(AnyreachError):
            directory = await client.agents.directory()
    return basis_of(Snapshot(numbers=numbers, trunks=trunks, routing=routing, directory=directory), touched)


async def record_undo(client: AnyreachClient, store: UndoStore, basis: UndoBasis, *, made_by: str) -> UndoRecord:
    """Read what the change left of each target, and keep the record."""
    found = await read_records(client, basis.before)
    created: dict[str, str] = {}
    if basis.created_trunks:
        async for trunk in client.trunks.iter(page_size=PAGE_SIZE):
            if trunk.name in basis.created_trunks and trunk.id not in basis.trunks:
                created[trunk.name] = trunk.id
                found[trunk_uri(trunk.id)] = trunk
    uris = [*basis.before, *(trunk_uri(trunk_id) for trunk_id in created.values())]
    record = UndoRecord(
        id=new_undo_id(),
        made_by=made_by,
        basis=basis,
        after={uri: digest_of(found.get(uri)) for uri in uris},
        after_fields={uri: secret_free_fields(found.get(uri)) for uri in uris},
        created_trunk_ids=created,
    )
    return await store.save(record)


def secret_free_fields(record: object) -> dict[str, Any] | None:
    """A record's fields as JSON, without bookkeeping and without any password."""
    if record is None:
        return None
    dumped: object = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
    data: dict[str, Any] = json.loads(json.dumps(dumped, default=str))
    return {key: _without_passwords(value) for key, value in data.items() if key not in _BOOKKEEPING}


def _without_passwords(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_passwords(v) for k, v in value.items() if k != "auth_password"}  # pyright: ignore[reportUnknownVariableType]
    return value


def kept_sentence(record: UndoRecord, store: UndoStore) -> str:
    """The line a result ends with: the id, how to undo, and how long the record lives."""
    operation = json.dumps({"op": "undo", "undo_id": record.id})
    return f"Undo id {record.id}, kept {store.lasts}: to undo this, call plan_changes with operations [{operation}]."


def sides_with_authentication(item: dict[str, Any]) -> list[str]:
    """The sides of a trunk item that keep SIP authentication, whose password an update or create must send."""
    return [side for side in SLOTS if isinstance(config := item.get(side), dict) and config.get("auth_username")]  # pyright: ignore[reportUnknownMemberType]
