"""The undo of a recorded change as targets for the planner, and as a document a person can keep.

Each target the change wrote is given back what it had, unless it changed since the change (its digest now is
not the one the change left): then it is refused, named with what changed, and left as it is. What cannot be
undone is said plainly instead of planned: a released purchased number, a trunk whose SIP password was never
stored (restoring it sends the password again: the plan says how to give it), a trunk renamed since.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from mcp_anyreach.changes.actions import SECRET_PREFIX, Side
from mcp_anyreach.changes.desired import DesiredTargets, TrunkTarget, compile_document, load_document
from mcp_anyreach.changes.model import MoveIntent, NumberTarget
from mcp_anyreach.changes.snapshot import Snapshot
from mcp_anyreach.changes.undo import secret_free_fields, sides_with_authentication
from mcp_anyreach.changes.undo_store import UndoRecord, UndoStore
from mcp_anyreach.domain.text import listed
from mcp_anyreach.domain.uris import NUMBERS_URI, ROUTING_URI, TRUNKS_URI, number_uri, trunk_uri

Passwords = Mapping[str, Mapping[Side, str]]
"""Trunk name (or id) -> side -> the ANYREACH_SIP_... variable that holds that side's password."""


def unknown_undo(undo_id: str, store: UndoStore) -> str:
    return (
        f"There is no undo record {undo_id}: records are kept {store.lasts}, only for the organization whose "
        "change made them, so it expired, belongs elsewhere, or is mistyped. Nothing was planned. To reverse the "
        "change by hand, read what is there now (audit_inventory, get_trunk, list_phone_numbers, "
        "get_inbound_routing_config) and plan the reverse with plan_changes."
    )


def undo_targets(
    record: UndoRecord, snapshot: Snapshot, interrupted: Mapping[str, MoveIntent], passwords: Passwords
) -> tuple[DesiredTargets, list[str]]:
    """What undoing `record` makes each target, and notes on what is not undone and why."""
    basis = record.basis
    notes = [f"Undoes {record.made_by} ({record.id}).", *(f"NOT UNDONE: {line}" for line in basis.lost)]
    changed: set[str] = set()
    for uri, left in record.after.items():
        if snapshot.digest(uri) != left:
            changed.add(uri)
            notes.append(
                f"REFUSED: {_label(uri, record)} changed since that change ({_what_changed(record, snapshot, uri)}); "
                "undoing it would overwrite that, so it stays as it is now."
            )

    def to_undo(uri: str) -> bool:
        return uri not in changed and snapshot.digest(uri) != basis.before.get(uri)

    document: dict[str, Any] = {"version": 1}
    trunk_items, restored = _trunks(record, snapshot, passwords, to_undo, notes)
    if trunk_items:
        document["trunks"] = {"items": trunk_items}
    number_items: list[dict[str, Any]] = []
    for item in basis.document.get("numbers", {}).get("items", []):
        if not to_undo(number_uri(item["phone_number"])):
            continue
        if item["trunk"] not in restored and snapshot.trunk_named(item["trunk"]) is None:
            notes.append(
                f"NOT UNDONE: {item['phone_number']} goes back to trunk {item['trunk']!r}, which is gone and is not "
                "restored by this undo (see above)."
            )
            continue
        number_items.append(item)
    if number_items:
        document["numbers"] = {"items": number_items}
    if "routing" in basis.document and to_undo(ROUTING_URI):
        document["routing"] = basis.document["routing"]
    targets = compile_document(load_document(document), snapshot, interrupted)
    numbers = dict(targets.numbers)
    for phone in basis.created_numbers:
        if to_undo(number_uri(phone)):
            numbers[phone] = NumberTarget(phone, present=False)
    trunks = list(targets.trunks)
    for name, trunk_id in record.created_trunk_ids.items():
        if to_undo(trunk_uri(trunk_id)):
            trunks.append(TrunkTarget(name=name, trunk_id=trunk_id, present=False))
    return targets.model_copy(update={"numbers": numbers, "trunks": trunks}), notes


def _trunks(
    record: UndoRecord, snapshot: Snapshot, passwords: Passwords, to_undo: Any, notes: list[str]
) -> tuple[list[dict[str, Any]], set[str]]:
    """The trunk items to restore (with the passwords given), and their names."""
    ids = {name: trunk_id for trunk_id, name in record.basis.trunks.items()}
    items: list[dict[str, Any]] = []
    for item in record.basis.document.get("trunks", {}).get("items", []):
        name = str(item["name"])
        trunk_id = ids.get(name, "")
        if not to_undo(trunk_uri(trunk_id)):
            continue
        current = snapshot.trunks.get(trunk_id)
        if current is not None and current.name != name:
            notes.append(
                f"NOT UNDONE: trunk {name!r} ({trunk_id}) is named {current.name!r} now, and an undo finds trunks by "
                f"name: rename it back with update_trunk (name {name!r}), then plan this undo again."
            )
            continue
        if current is None and (other := snapshot.trunk_named(name)) is not None:
            notes.append(
                f"NOT UNDONE: trunk {name!r} was deleted, and another trunk of that name exists now ({other.id}); "
                "restoring it would change that one instead."
            )
            continue
        given: dict[str, str] = {**passwords.get(name, {}), **passwords.get(trunk_id, {})}
        item = copy.deepcopy(item)
        missing = [side for side in sides_with_authentication(item) if side not in given]
        if missing:
            notes.append(_password_note(record.id, name, missing))
            continue
        for side in sides_with_authentication(item):
            item[side]["auth_password"] = {"env": given[side]}
        items.append(item)
    return items, {str(item["name"]) for item in items}


def _password_note(undo_id: str, name: str, sides: list[str]) -> str:
    variables = {side: f"{SECRET_PREFIX}CARRIER" for side in sides}
    example = {"op": "undo", "undo_id": undo_id, "passwords": {name: variables}}
    which = " and ".join(sides)
    arguments = " and ".join(f"{side}_password" for side in sides)
    return (
        f"NOT UNDONE: trunk {name!r}: its {which} SIP password was never stored (the API never returns one), and "
        f"restoring the trunk sends it again. To undo it too, put the password in an environment variable named "
        f"{SECRET_PREFIX}... where the server runs and plan {json.dumps(example)}; or restore the trunk yourself with "
        f"update_trunk, giving {arguments}."
    )


def _label(uri: str, record: UndoRecord) -> str:
    if uri == ROUTING_URI:
        return "the routing config"
    if uri.startswith(NUMBERS_URI + "/"):
        return uri.removeprefix(NUMBERS_URI + "/")
    trunk_id = uri.removeprefix(TRUNKS_URI + "/")
    names = {**record.basis.trunks, **{tid: name for name, tid in record.created_trunk_ids.items()}}
    return f"trunk {names[trunk_id]!r} ({trunk_id})" if trunk_id in names else f"trunk {trunk_id}"


def _what_changed(record: UndoRecord, snapshot: Snapshot, uri: str) -> str:
    left = record.after_fields.get(uri)
    now = secret_free_fields(snapshot.record(uri))
    if left is None:
        return "it exists again" if now is not None else "it was written again"
    if now is None:
        return "it was deleted"
    fields = sorted(key for key in {*left, *now} if left.get(key) != now.get(key))
    if not fields:
        return "it was written again since"
    return f"{listed(fields)} differ from what the change left"


def inverse_document(record: UndoRecord) -> tuple[dict[str, Any], list[str]]:
    """What the change replaced as a desired-state document a person can keep and apply, and what it cannot say
    (comments to print above it). A side that keeps SIP authentication reads its password from a variable named
    after the trunk, which the person sets."""
    document = copy.deepcopy(record.basis.document)
    comments = [f"The undo of {record.made_by}: `mcp-anyreach plan` this file, then `mcp-anyreach apply` it."]
    for item in document.get("trunks", {}).get("items", []):
        for side in sides_with_authentication(item):
            variable = password_variable_for(str(item["name"]), side)
            item[side]["auth_password"] = {"env": variable}
            comments.append(
                f"Set {variable} to the {side} SIP password of trunk {item['name']!r} before planning: it was never "
                "stored, and restoring the trunk sends it again."
            )
    created = record.basis.created_numbers
    if created:
        comments.append(
            f"Registered by that change, which a document deletes only by listing every number to keep (prune): "
            f"{listed(created)}. Delete them with the MCP tool delete_phone_numbers."
        )
    if record.created_trunk_ids:
        comments.append(
            f"Trunks created by that change: {listed(list(record.created_trunk_ids))}. Delete them with delete_trunk "
            "once no number uses them."
        )
    comments += record.basis.lost
    return document, comments


def password_variable_for(trunk_name: str, side: str) -> str:
    stem = re.sub(r"[^A-Z0-9]+", "_", trunk_name.upper()).strip("_")[:60] or "TRUNK"
    return f"{SECRET_PREFIX}{stem}_{side.upper()}"
