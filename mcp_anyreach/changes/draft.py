"""A plan while it is drawn up: its steps by phase, what they mean for callers, and what they touch."""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp_anyreach.changes.actions import Change
from mcp_anyreach.changes.model import MoveIntent, Step

PHASES = ("trunks", "moves", "registers", "numbers", "agents", "routing", "deletes", "trunk_deletes")
"""The safe order of a plan's steps (planner.py says why)."""


@dataclass
class Draft:
    phases: dict[str, list[Step]] = field(default_factory=lambda: {phase: [] for phase in PHASES})
    impact: list[str] = field(default_factory=list[str])
    watched: set[str] = field(default_factory=set[str])
    moves: dict[str, MoveIntent] = field(default_factory=dict[str, MoveIntent])
    released: list[str] = field(default_factory=list[str])

    def add(self, phase: str, change: Change, detail: str, *, subject: str | None = None) -> None:
        step = Step.of(change, detail, subject=subject)
        self.phases[phase].append(step)
        self.watched.update(step.targets)
