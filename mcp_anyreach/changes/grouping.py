"""How a plan's steps are shown together: a number's move (its delete, register and the agents it gets back)
is one group, and consecutive moves between the same two trunks are one entry naming every number with what
its steps write.

An entry is read back from the steps' own details: a move joins an entry only when its delete, register and
publish details are exactly what that entry's line says of it, otherwise it is shown step by step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from mcp_anyreach.changes.actions import VERBS, Change, DeleteNumber, Publish, RegisterNumber
from mcp_anyreach.domain.text import counted


class StepLike(Protocol):
    """What grouping reads of a plan's step (model.Step), so that the model can group its own steps."""

    @property
    def n(self) -> int: ...
    @property
    def subject(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def change(self) -> Change: ...


Step = TypeVar("Step", bound=StepLike)

# direction of a publish step -> the slots the entry names
_SLOTS = {"both": "inbound and outbound", "inbound": "inbound", "outbound": "outbound"}


def step_groups(steps: list[Step]) -> list[list[Step]]:
    """The steps, with each move's delete, register and agents of one number together."""
    groups: list[list[Step]] = []
    for step in steps:
        if groups and _continues_move(groups[-1], step):
            groups[-1].append(step)
        else:
            groups.append([step])
    return groups


def _continues_move(group: list[Step], step: Step) -> bool:
    head = group[0]
    if not isinstance(head.change, DeleteNumber) or step.subject != head.subject:
        return False
    if len(group) == 1:
        return isinstance(step.change, RegisterNumber)
    return isinstance(step.change, Publish)


@dataclass(frozen=True, slots=True)
class Move:
    """One number's move as its steps write it: from which trunk to which, its sharing and its agents."""

    phone: str
    source: str
    target: str
    shareable: bool
    agents: tuple[str, ...]  # `'Support' v2 inbound`, one per publish step

    def shown(self) -> str:
        parts = [*self.agents, *(["outbound shareable"] if self.shareable else [])]
        return f"{self.phone} ({', '.join(parts)})" if parts else self.phone


def read_move(group: list[Step]) -> Move | None:
    """The move a group of steps makes, or None when a detail says more than a move's line would."""
    if len(group) < 2:
        return None
    delete, register, *publishes = group
    phone = delete.subject
    source = _between(delete.detail, f"delete {phone} from trunk ", " (to move it)")
    shareable = isinstance(register.change, RegisterNumber) and register.change.outbound_shareable
    target = _between(register.detail, f"register {phone} on trunk ", ", outbound shareable" if shareable else "")
    agents: list[str] = []
    for step in publishes:
        if not isinstance(step.change, Publish):
            return None
        direction = step.change.direction
        label = _between(step.detail, "", f" {VERBS[direction]} {phone}")
        if not label:
            return None
        agents.append(f"{label} {_SLOTS[direction]}")
    if not source or not target:
        return None
    return Move(phone, source, target, shareable, tuple(agents))


def _between(text: str, prefix: str, suffix: str) -> str | None:
    if not text.startswith(prefix) or not text.endswith(suffix) or len(text) < len(prefix) + len(suffix):
        return None
    return text[len(prefix) : len(text) - len(suffix)]


@dataclass(frozen=True, slots=True)
class Entry(Generic[Step]):
    """Steps shown as one: a single step, one number's move, or consecutive moves between two trunks."""

    steps: list[Step]
    moves: tuple[Move, ...] = ()

    @property
    def first(self) -> int:
        return self.steps[0].n

    @property
    def last(self) -> int:
        return self.steps[-1].n

    @property
    def shared(self) -> bool:
        """Whether several numbers' moves share this entry (else each step can be shown as it is)."""
        return len(self.moves) > 1

    def text(self) -> str:
        if self.shared:
            head = self.moves[0]
            return (
                f"move {counted(len(self.moves), 'number')} from trunk {head.source} to trunk {head.target}, each "
                "deleted, registered again and given these agents: " + ", ".join(move.shown() for move in self.moves)
            )
        if len(self.steps) > 1:
            return f"move {self.steps[0].subject}: " + "; ".join(step.detail for step in self.steps)
        return self.steps[0].detail

    def line(self) -> str:
        numbers = f"{self.first}-{self.last}" if len(self.steps) > 1 else f"{self.first}"
        return f"{numbers}. {self.text()}"


def entries(steps: list[Step]) -> list[Entry[Step]]:
    """The steps as a person reads them, in order: consecutive moves between the same trunks share an entry."""
    out: list[Entry[Step]] = []
    for group in step_groups(steps):
        move = read_move(group)
        previous = out[-1].moves[-1] if out and out[-1].moves else None
        if move and previous and (previous.source, previous.target) == (move.source, move.target):
            out[-1] = Entry([*out[-1].steps, *group], (*out[-1].moves, move))
        else:
            out.append(Entry(group, (move,) if move else ()))
    return out
