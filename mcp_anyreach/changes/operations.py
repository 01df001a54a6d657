"""Operations: the jobs people ask for by name (delete these numbers, move those), as targets for the planner.

The schema of an operation list is published (`anyreach://schema/operations`) rather than inlined in the
tool's input schema: every conversation would otherwise pay for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from mcp_anyreach.api import PhoneNumber
from mcp_anyreach.changes.actions import SECRET_PREFIX, Side
from mcp_anyreach.changes.agents import agent_slot, current_slot
from mcp_anyreach.changes.desired import EnvName
from mcp_anyreach.changes.model import KEEP, MoveIntent, NumberTarget, SlotTarget
from mcp_anyreach.changes.snapshot import Snapshot
from mcp_anyreach.domain.args import E164, Identifier, TrunkName
from mcp_anyreach.domain.references import name_instead_of_id
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.text import listed
from mcp_anyreach.validation import describe

Numbers = Annotated[list[E164], Field(max_length=1000, description="E.164 numbers")]
Direction = Literal["inbound", "outbound", "both"]


class _Operation(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class _Selection(_Operation):
    phone_numbers: Numbers = Field(default=[], description="These numbers")
    from_trunk_id: Identifier | None = Field(default=None, description="Every number on this trunk")


class DeleteNumbers(_Selection):
    """Remove numbers from the directory (numbers already gone are skipped)."""

    op: Literal["delete_numbers"]
    unused: bool = Field(default=False, description="Every number with no agent on either slot, not shareable")


class MoveNumbers(_Selection):
    """Move numbers to a BYOC trunk, keeping outbound_shareable and both agent slots."""

    op: Literal["move_numbers"]
    to_trunk_id: Identifier


class AssignAgent(_Operation):
    """Put an agent version on the numbers' slots."""

    op: Literal["assign_agent"]
    agent: str = Field(min_length=1, max_length=128, description="Agent id or exact name")
    version: int | None = Field(default=None, ge=1, description="Default: the latest published version")
    phone_numbers: Numbers
    direction: Direction = "inbound"


class UnassignAgent(_Operation):
    """Empty the numbers' slots."""

    op: Literal["unassign_agent"]
    phone_numbers: Numbers
    direction: Direction = "inbound"


class SetShareable(_Operation):
    """Allow or forbid other agents to call out from the numbers."""

    op: Literal["set_shareable"]
    phone_numbers: Numbers
    outbound_shareable: bool


class RegisterNumbers(_Operation):
    """Add numbers you own elsewhere to the directory, on a BYOC trunk."""

    op: Literal["register_numbers"]
    phone_numbers: Numbers
    trunk_id: Identifier
    outbound_shareable: bool = False


class Undo(_Operation):
    """Plan the undo of an applied change, by the undo_id its result gave; planned alone."""

    op: Literal["undo"]
    undo_id: str = Field(min_length=8, max_length=64, pattern=r"^und_[A-Za-z0-9_-]+$", description="From the change")
    passwords: dict[TrunkName, dict[Side, EnvName]] = Field(
        default={},
        max_length=50,
        description=f"Trunk name -> side -> a {SECRET_PREFIX}... variable holding that side's SIP password, for trunks "
        "the undo restores (the plan says which need one)",
    )


Operation = Annotated[
    DeleteNumbers | MoveNumbers | AssignAgent | UnassignAgent | SetShareable | RegisterNumbers | Undo,
    Field(discriminator="op"),
]
OPERATIONS = TypeAdapter(list[Operation], config=ConfigDict(defer_build=True))


def parse_operations(raw: Sequence[Mapping[str, Any]]) -> list[Operation]:
    """Validated operations, or a Refusal naming each wrong field and what is expected."""
    if not raw:
        raise Refusal("Give at least one operation; anyreach://schema/operations lists them.")
    try:
        return OPERATIONS.validate_python(list(raw))
    except ValidationError as exc:
        problems = describe(exc, whole="operations", limit=5)
        raise Refusal(
            f"The operations are not valid: {problems}. anyreach://schema/operations describes them."
        ) from None


def operations_schema() -> dict[str, Any]:
    return OPERATIONS.json_schema()


def compile_operations(
    operations: Sequence[Operation], snapshot: Snapshot, interrupted: Mapping[str, MoveIntent]
) -> tuple[dict[str, NumberTarget], list[str]]:
    """What each touched number should become, and notes on numbers that need nothing.

    `interrupted` are the moves an earlier apply left unfinished: a number being moved to the same trunk
    again is restored from them, because its slots may already be empty.
    """
    targets: dict[str, NumberTarget] = {}
    notes: list[str] = []

    def set_target(target: NumberTarget) -> None:
        before = targets.get(target.phone_number)
        if before is not None and before.present != target.present:
            raise Refusal(f"{target.phone_number} is both deleted and changed by these operations; choose one.")
        targets[target.phone_number] = target if before is None else before.merged(target)

    for operation in operations:
        match operation:
            case DeleteNumbers():
                chosen, absent = _selected(operation, snapshot, unused=operation.unused)
                if absent:
                    notes.append(f"Not in the directory, nothing to delete: {listed(absent)}.")
                if operation.unused:
                    kept = _shareable_without_agents(snapshot, {number.phone_number for number in chosen})
                    if kept:
                        notes.append(f"Kept, shareable for outbound calls by any agent: {listed(kept)}.")
                for number in chosen:
                    set_target(NumberTarget(number.phone_number, present=False))
            case MoveNumbers():
                for target in _moves(operation, snapshot, interrupted, notes):
                    set_target(target)
            case AssignAgent():
                slot = agent_slot(snapshot.directory, operation.agent, operation.version)
                for number in _existing(operation.phone_numbers, snapshot):
                    set_target(_on_slots(number.phone_number, operation.direction, slot))
            case UnassignAgent():
                for number in _existing(operation.phone_numbers, snapshot):
                    set_target(_on_slots(number.phone_number, operation.direction, None))
            case SetShareable():
                for number in _existing(operation.phone_numbers, snapshot):
                    set_target(NumberTarget(number.phone_number, outbound_shareable=operation.outbound_shareable))
            case RegisterNumbers():
                trunk = _byoc_trunk(operation.trunk_id, snapshot, "trunk_id")
                for phone in operation.phone_numbers:
                    current = snapshot.numbers.get(phone)
                    if current is not None and current.trunk_id != trunk:
                        raise Refusal(
                            f"{phone} is already in the directory on trunk {current.trunk_id}; move it with "
                            "move_numbers instead."
                        )
                    set_target(
                        NumberTarget(phone, trunk=trunk, outbound_shareable=operation.outbound_shareable)
                        if current is None
                        else NumberTarget(phone)
                    )
            case Undo():
                raise Refusal("Plan an undo alone: give only the undo operation.")
    return targets, notes


def _on_slots(phone: str, direction: Direction, slot: SlotTarget) -> NumberTarget:
    return NumberTarget(
        phone,
        inbound=slot if direction != "outbound" else KEEP,
        outbound=slot if direction != "inbound" else KEEP,
    )


def _selected(
    selection: _Selection, snapshot: Snapshot, *, unused: bool = False
) -> tuple[list[PhoneNumber], list[str]]:
    """The numbers a selection names that exist, and those it names that do not."""
    if not selection.phone_numbers and selection.from_trunk_id is None and not unused:
        raise Refusal("Select numbers: give phone_numbers or from_trunk_id (delete_numbers also takes unused: true).")
    chosen: dict[str, PhoneNumber] = {}
    absent = [phone for phone in selection.phone_numbers if phone not in snapshot.numbers]
    for phone in selection.phone_numbers:
        if phone in snapshot.numbers:
            chosen[phone] = snapshot.numbers[phone]
    if selection.from_trunk_id is not None:
        if selection.from_trunk_id not in snapshot.trunks:
            raise Refusal(_no_trunk("from_trunk_id", selection.from_trunk_id, snapshot))
        chosen.update((n.phone_number, n) for n in snapshot.numbers_on(selection.from_trunk_id))
    if unused:
        chosen.update((n.phone_number, n) for n in snapshot.numbers.values() if is_unused(n))
    return list(chosen.values()), absent


def is_unused(number: PhoneNumber) -> bool:
    """No agent on either slot, and not shareable: any agent may place outbound calls from a shareable number."""
    return (
        number.inbound_agent_version_id is None
        and number.outbound_agent_version_id is None
        and not number.outbound_shareable
    )


def _shareable_without_agents(snapshot: Snapshot, chosen: set[str]) -> list[str]:
    return [
        n.phone_number
        for n in snapshot.numbers.values()
        if n.phone_number not in chosen
        and n.outbound_shareable
        and n.inbound_agent_version_id is None
        and n.outbound_agent_version_id is None
    ]


def _existing(phones: Sequence[str], snapshot: Snapshot) -> list[PhoneNumber]:
    missing = [phone for phone in phones if phone not in snapshot.numbers]
    if missing:
        raise Refusal(f"Not in the directory: {listed(missing)}. Find numbers with list_phone_numbers.")
    if not phones:
        raise Refusal("Give phone_numbers.")
    return [snapshot.numbers[phone] for phone in phones]


def _no_trunk(argument: str, trunk_id: str, snapshot: Snapshot) -> str:
    trunks = ((trunk.id, trunk.name) for trunk in snapshot.trunks.values())
    named = name_instead_of_id("trunk", argument, trunk_id, trunks)
    return named or f"There is no trunk {trunk_id}; find trunk ids with list_trunks."


def _byoc_trunk(trunk_id: str, snapshot: Snapshot, argument: str = "to_trunk_id") -> str:
    trunk = snapshot.trunks.get(trunk_id)
    if trunk is None:
        raise Refusal(_no_trunk(argument, trunk_id, snapshot))
    if trunk.managed_account_id:
        raise Refusal(
            f"Trunk {trunk_id} is managed (it belongs to purchased numbers); numbers can only be registered on a "
            "BYOC trunk: choose one with list_trunks or create one with create_trunk."
        )
    return trunk.id


def _moves(
    operation: MoveNumbers, snapshot: Snapshot, interrupted: Mapping[str, MoveIntent], notes: list[str]
) -> list[NumberTarget]:
    to_trunk = _byoc_trunk(operation.to_trunk_id, snapshot)
    chosen, absent = _selected(operation, snapshot)
    # Moving a trunk's numbers again finishes the moves from it that were interrupted: a number deleted and not
    # yet registered, or registered on the new trunk before its agents were given back.
    resumed = {phone for phone, intent in interrupted.items() if intent.from_trunk_id == operation.from_trunk_id}
    absent += [phone for phone in sorted(resumed) if phone not in snapshot.numbers and phone not in absent]
    named = {number.phone_number for number in chosen}
    chosen += [
        number
        for phone in sorted(resumed - named)
        if (number := snapshot.numbers.get(phone)) is not None and number.trunk_id == to_trunk
    ]
    targets: list[NumberTarget] = []
    for phone in absent:
        intent = interrupted.get(phone)
        if intent is None or intent.trunk_id != to_trunk:
            raise Refusal(
                f"{phone} is not in the directory, so it cannot be moved; find numbers with list_phone_numbers."
            )
        targets.append(intent.target())
    already = [n.phone_number for n in chosen if n.trunk_id == to_trunk and n.phone_number not in interrupted]
    if already:
        notes.append(f"Already on trunk {to_trunk}: {listed(already)}.")
    for number in chosen:
        intent = interrupted.get(number.phone_number)
        if intent is not None and intent.trunk_id == to_trunk:
            targets.append(intent.target())
            continue
        if number.trunk_id == to_trunk:
            continue
        where = f"{number.phone_number}'s"
        targets.append(
            NumberTarget(
                number.phone_number,
                trunk=to_trunk,
                outbound_shareable=number.outbound_shareable,
                inbound=current_slot(snapshot.directory, number.inbound_agent_version_id, f"{where} inbound slot"),
                outbound=current_slot(snapshot.directory, number.outbound_agent_version_id, f"{where} outbound slot"),
            )
        )
    return targets
