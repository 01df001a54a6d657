"""From targets to an ordered plan: the steps, what they mean for callers, and what planning saw.

Safe order: trunks are created and updated first, then numbers move (each deleted, registered on its new
trunk and given its agents back before the next), new numbers are registered, sharing and agents change,
routing changes, and only then are numbers and trunks deleted. Everything compares the target with the
snapshot, so planning again after a partial apply plans only what is still missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcp_anyreach.api import InboundRoutingConfig, PhoneNumber
from mcp_anyreach.changes.actions import (
    CreateRouting,
    DeleteNumber,
    DeleteRouting,
    Direction,
    Publish,
    RegisterNumber,
    SetShareable,
    Unassign,
    UpdateRouting,
)
from mcp_anyreach.changes.agents import current_slot
from mcp_anyreach.changes.desired import RoutingTarget, TrunkTarget
from mcp_anyreach.changes.draft import PHASES, Draft
from mcp_anyreach.changes.model import (
    KEEP,
    SLOTS,
    AgentSlot,
    Keep,
    MoveIntent,
    NumberTarget,
    Plan,
    Slot,
    SlotTarget,
)
from mcp_anyreach.changes.snapshot import Snapshot
from mcp_anyreach.changes.trunk_plan import check_pruned_trunks, plan_trunks
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.summaries import switched_off
from mcp_anyreach.domain.text import counted, listed, named
from mcp_anyreach.domain.uris import ROUTING_URI, number_uri, trunk_uri
from mcp_anyreach.domain.workflows import no_fallback_warning
from mcp_anyreach.reports.explain import nobody_answers

PUBLISH_BATCH = 100
# Numbers given or relieved of one agent version on one slot, gathered into as few steps as the API allows.
_Batch = tuple[type[Publish] | type[Unassign], int, str, Direction]


def make_plan(
    snapshot: Snapshot,
    numbers: Mapping[str, NumberTarget],
    trunks: Sequence[TrunkTarget] = (),
    routing: RoutingTarget = KEEP,
    *,
    plan_id: str,
    notes: Sequence[str] = (),
) -> Plan:
    """Every step that makes the snapshot match the targets, or a Refusal saying which target cannot be met."""
    draft = Draft()
    plan_trunks(trunks, snapshot, draft)
    for phone, target in numbers.items():
        _plan_number(phone, target, snapshot, draft)
    _plan_agents(numbers, snapshot, draft)
    routing_after = _plan_routing(routing, snapshot, draft)
    draft.impact += _switched_off_agents(draft, snapshot)
    if not isinstance(routing, Keep) and routing_after is not None:
        draft.impact += filter(None, [no_fallback_warning(routing_after)])
    check_pruned_trunks(trunks, numbers, snapshot)
    draft.impact += _answering_impact(numbers, snapshot, routing_after)
    steps = [step for phase in PHASES for step in draft.phases[phase]]
    numbered = [step.model_copy(update={"n": index}) for index, step in enumerate(steps, 1)]
    _outage(draft)
    basis = {uri: snapshot.digest(uri) for uri in sorted(draft.watched)}
    return Plan(
        id=plan_id,
        steps=numbered,
        impact=draft.impact,
        notes=list(notes),
        basis=basis,
        moves=draft.moves,
    )


def _plan_number(phone: str, target: NumberTarget, snapshot: Snapshot, draft: Draft) -> None:
    current = snapshot.numbers.get(phone)
    uri = number_uri(phone)
    draft.watched.add(uri)
    if not target.present:
        if current is not None:
            purchased = _purchased(current, snapshot)
            if purchased:
                draft.released.append(phone)
            delete = DeleteNumber(phone)
            draft.add("deletes", delete, delete.describe(released=purchased))
        return
    trunk = target.trunk if not isinstance(target.trunk, Keep) else (current.trunk_id if current else None)
    if trunk is None:
        raise Refusal(f"{phone} is not in the directory; say which trunk to register it on.")
    _register_only_on_byoc(phone, trunk, snapshot)
    if current is None or current.trunk_id != trunk:
        _place(phone, trunk, target, current, snapshot, draft)
    elif not isinstance(target.outbound_shareable, Keep) and target.outbound_shareable != current.outbound_shareable:
        sharing = SetShareable(phone, target.outbound_shareable)
        draft.add("numbers", sharing, sharing.describe())


def _place(
    phone: str, trunk: str, target: NumberTarget, current: PhoneNumber | None, snapshot: Snapshot, draft: Draft
) -> None:
    """Register a number on `trunk`, deleting it from its old trunk first (a move), and give it its agents."""
    if current is not None and _purchased(current, snapshot):
        raise Refusal(
            f"{phone} was bought through Anyreach and lives on its managed trunk; moving it to another trunk "
            "would delete the purchased number. Keep it on its trunk."
        )
    slots = {side: _resolved(target.slot(side), current, side, snapshot) for side in SLOTS}
    keep = current.outbound_shareable if current is not None else False
    sharing = keep if isinstance(target.outbound_shareable, Keep) else target.outbound_shareable
    phase = "moves" if current is not None else "registers"
    if current is not None:
        delete = DeleteNumber(phone)
        draft.add(phase, delete, delete.describe(moving_from=_trunk_label(current.trunk_id, snapshot)))
        if not trunk.startswith("name:"):
            draft.moves[phone] = MoveIntent(
                phone_number=phone,
                from_trunk_id=current.trunk_id,
                trunk_id=trunk,
                outbound_shareable=sharing,
                inbound=slots["inbound"].json() if slots["inbound"] else None,
                outbound=slots["outbound"].json() if slots["outbound"] else None,
            )
    if trunk.startswith("name:"):
        register = RegisterNumber(phone, sharing, trunk_name=trunk.removeprefix("name:"))
    else:
        register = RegisterNumber(phone, sharing, trunk_id=trunk)
        draft.watched.add(trunk_uri(trunk))
    draft.add(phase, register, register.describe(_trunk_label(trunk, snapshot)))
    _publish_slots(phase, phone, slots, draft)


def _register_only_on_byoc(phone: str, trunk: str, snapshot: Snapshot) -> None:
    existing = snapshot.trunks.get(trunk)
    if existing is not None and existing.managed_account_id and snapshot.numbers.get(phone, None) is None:
        raise Refusal(
            f"{phone} is not in the directory and its trunk {named(existing.name)!r} is managed: numbers on managed "
            "trunks are bought (search_available_numbers, purchase_phone_number), which a change set never does."
        )
    if existing is not None and existing.managed_account_id:
        current = snapshot.numbers[phone]
        if current.trunk_id != trunk:
            raise Refusal(
                f"{phone} cannot move to the managed trunk {named(existing.name)!r}: numbers are registered only on "
                "BYOC trunks."
            )


def _purchased(number: PhoneNumber, snapshot: Snapshot) -> bool:
    trunk = snapshot.trunks.get(number.trunk_id)
    return trunk is not None and trunk.managed_account_id is not None


def _trunk_label(trunk: str, snapshot: Snapshot) -> str:
    if trunk.startswith("name:"):
        return f"{trunk.removeprefix('name:')!r} (created by this plan)"
    known = snapshot.trunks.get(trunk)
    return f"{named(known.name)!r}" if known else trunk


def _resolved(slot: SlotTarget, current: PhoneNumber | None, side: Slot, snapshot: Snapshot) -> AgentSlot | None:
    if not isinstance(slot, Keep):
        return slot
    if current is None:
        return None
    return current_slot(snapshot.directory, current.agent_version_id(side), f"{current.phone_number}'s {side} slot")


def _publish_slots(phase: str, phone: str, slots: Mapping[str, AgentSlot | None], draft: Draft) -> None:
    """A moved or new number's agents, given back slot by slot (one step for both slots of one agent)."""
    inbound, outbound = slots["inbound"], slots["outbound"]
    given: list[tuple[Direction, AgentSlot | None]] = [("inbound", inbound), ("outbound", outbound)]
    if inbound is not None and inbound == outbound:
        given = [("both", inbound)]
    for direction, slot in given:
        if slot is not None:
            publish = Publish(slot.agent_id, slot.version, (phone,), direction, restoring=True)
            draft.add(phase, publish, publish.describe(slot.label))


def _plan_agents(numbers: Mapping[str, NumberTarget], snapshot: Snapshot, draft: Draft) -> None:
    """Slot changes of numbers that stay on their trunk, batched per agent version and direction."""
    batches: dict[_Batch, list[str]] = {}
    labels: dict[_Batch, str] = {}
    for phone, target in numbers.items():
        current = snapshot.numbers.get(phone)
        if current is None or not target.present:
            continue
        if not isinstance(target.trunk, Keep) and target.trunk != current.trunk_id:
            continue  # a move restores its slots itself
        wanted: dict[Slot, AgentSlot | None] = {}
        for side in SLOTS:
            slot = target.slot(side)
            held = current.agent_version_id(side)
            if isinstance(slot, Keep) or (slot.version_id if slot else None) == held:
                continue
            wanted[side] = slot
        both = len(wanted) == 2 and wanted["inbound"] == wanted["outbound"]
        for side, slot in wanted.items():
            if both and side == "outbound":
                continue
            direction: Direction = "both" if both else side
            if slot is None:
                holder = current_slot(snapshot.directory, current.agent_version_id(side), f"{phone}'s {side} slot")
                assert holder is not None
                key: _Batch = (Unassign, holder.version, holder.agent_id, direction)
                labels[key] = holder.label
            else:
                key = (Publish, slot.version, slot.agent_id, direction)
                labels[key] = slot.label
            batches.setdefault(key, []).append(phone)
    for key, phones in batches.items():
        kind, version, agent_id, direction = key
        for start in range(0, len(phones), PUBLISH_BATCH):
            change = kind(agent_id, version, tuple(phones[start : start + PUBLISH_BATCH]), direction)
            draft.add("agents", change, change.describe(labels[key]))


def _switched_off_agents(draft: Draft, snapshot: Snapshot) -> list[str]:
    """A WARNING per inactive agent the plan puts on numbers (a move only puts back what a number had)."""
    phones: dict[str, list[str]] = {}
    for phase, steps in draft.phases.items():
        for step in steps:
            if phase != "moves" and isinstance(publish := step.change, Publish):
                phones.setdefault(publish.agent_id, []).extend(publish.phone_numbers)
    warnings: list[str] = []
    for agent_id, numbers in phones.items():
        agent = snapshot.directory.agent(agent_id)
        if agent is not None and not agent.active:
            warnings.append(switched_off(named(agent.name), agent_id, numbers))
    return warnings


def _plan_routing(routing: RoutingTarget, snapshot: Snapshot, draft: Draft) -> Any:
    """Steps for the routing target; returns the config after the plan (a dict, or None)."""
    current = snapshot.routing
    before = current.model_dump(mode="json") if current else None
    if isinstance(routing, Keep):
        return before
    draft.watched.add(ROUTING_URI)
    if routing is None:
        if current is not None:
            delete = DeleteRouting()
            draft.add("routing", delete, delete.describe(before or {}))
        return None
    if current is None:
        create = CreateRouting({key: value for key, value in routing.items() if value is not None})
        draft.add("routing", create, create.describe())
        return routing
    changes = {key: value for key, value in routing.items() if (before or {}).get(key) != value}
    if changes:
        after = {**(before or {}), **routing}
        update = UpdateRouting(changes)
        draft.add("routing", update, update.describe(after))
        return after
    return before


def _answering_impact(numbers: Mapping[str, NumberTarget], snapshot: Snapshot, routing_after: Any) -> list[str]:
    """Numbers that lose their answering agent, or get another one."""
    after_routing = (
        None if routing_after is None else InboundRoutingConfig.model_validate({"id": "after", **routing_after})
    )
    lost: list[str] = []
    changed: list[str] = []
    for phone, number in snapshot.numbers.items():
        target = numbers.get(phone, NumberTarget(phone))
        if not target.present:
            if not nobody_answers(number, snapshot.routing):
                lost.append(phone)
            continue
        inbound = target.inbound
        after_id = (
            number.inbound_agent_version_id if isinstance(inbound, Keep) else (inbound.version_id if inbound else None)
        )
        after = number.model_copy(update={"inbound_agent_version_id": after_id})
        if nobody_answers(after, after_routing) and not nobody_answers(number, snapshot.routing):
            lost.append(phone)
        elif after_id != number.inbound_agent_version_id and after_id is not None and number.inbound_agent_version_id:
            changed.append(phone)
    lines: list[str] = []
    if lost:
        lost_phrase = counted(len(lost), "number ends", "numbers end")
        lines.append(f"{lost_phrase} up with nobody answering (or are deleted while answered): {listed(lost)}.")
    if changed:
        lines.append(f"{counted(len(changed), 'number gets', 'numbers get')} another inbound agent: {listed(changed)}.")
    return lines


def _outage(draft: Draft) -> None:
    offset = len(draft.phases["trunks"])
    moving = draft.phases["moves"]
    moved = [step.subject for step in moving if isinstance(step.change, DeleteNumber)]
    if moved:
        steps_range = f"steps {offset + 1}-{offset + len(moving)}"
        draft.impact.append(
            f"{counted(len(moved), 'number moves', 'numbers move')} ({steps_range}): each is out of the "
            "directory from its delete until it is registered again, a moment per number; calls to it fail "
            "meanwhile. Sharing and both agent slots are kept."
        )
    if draft.released:
        draft.impact.append(
            f"{counted(len(draft.released), 'purchased number is', 'purchased numbers are')} released "
            f"({listed(draft.released)}); their managed "
            "trunks stay (the API cannot delete them)."
        )
