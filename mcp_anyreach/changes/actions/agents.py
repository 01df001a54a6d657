"""Changes to which agent version answers or calls from a number: publish on a slot, or take off it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.actions.base import Action, Change, Direction, Running
from mcp_anyreach.domain.uris import number_uri


def _numbers_subject(phones: Sequence[str]) -> str:
    return phones[0] if len(phones) == 1 else f"{len(phones)} numbers"


# What an agent does with a number from each slot, as a move's step says it.
VERBS: dict[Direction, str] = {"both": "answers and calls from", "inbound": "answers", "outbound": "calls from"}


class Publish(Change):
    """One agent version on a slot of numbers. `restoring`: a moved number gets back what it had, which reads
    as `'Sales' v2 answers +1...` and is stored with the numbers before the direction."""

    action: ClassVar[Action] = "publish"
    tool: ClassVar[str] = "assign_agent_to_numbers"
    phrase: ClassVar[tuple[str, str]] = ("publish", "agent assignment")

    __slots__ = ("agent_id", "direction", "phone_numbers", "restoring", "version")

    def __init__(
        self, agent_id: str, version: int, phone_numbers: tuple[str, ...], direction: Direction, restoring: bool = False
    ) -> None:
        self.agent_id = agent_id
        self.version = version
        self.phone_numbers = phone_numbers
        self.direction: Direction = direction
        self.restoring = restoring

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        # Plans have always stored the two kinds apart by this order alone (the audit log repeats it), and a
        # stored plan must read back, and be written again, as it was approved.
        keys = list(args)
        restoring = keys.index("phone_numbers") < keys.index("direction")
        return cls(
            str(args["agent_id"]), int(args["version"]), tuple(args["phone_numbers"]), args["direction"], restoring
        )

    def arguments(self) -> dict[str, Any]:
        head = {"agent_id": self.agent_id, "version": self.version}
        if self.restoring:
            return {**head, "phone_numbers": list(self.phone_numbers), "direction": self.direction}
        return {**head, "direction": self.direction, "phone_numbers": list(self.phone_numbers)}

    def subject(self) -> str:
        return _numbers_subject(self.phone_numbers)

    def targets(self) -> list[str]:
        return [number_uri(phone) for phone in self.phone_numbers]

    def describe(self, label: str) -> str:
        """`label`: the agent version as people name it, `'Sales' v2`."""
        if self.restoring:
            return f"{label} {VERBS[self.direction]} {', '.join(self.phone_numbers)}"
        return f"{label} on the {self.direction} slot of {', '.join(self.phone_numbers)}"

    async def run(self, client: AnyreachClient, running: Running) -> object:
        return await client.agents.publish(
            self.agent_id, self.version, phone_numbers=self.phone_numbers, direction=self.direction
        )


class Unassign(Change):
    """Takes an agent version off a slot of numbers (publishing it with the numbers to unassign)."""

    action: ClassVar[Action] = "unassign"
    tool: ClassVar[str] = "assign_agent_to_numbers"
    phrase: ClassVar[tuple[str, str]] = ("clear", "agent assignment")

    __slots__ = ("agent_id", "direction", "phone_numbers", "version")

    def __init__(self, agent_id: str, version: int, phone_numbers: tuple[str, ...], direction: Direction) -> None:
        self.agent_id = agent_id
        self.version = version
        self.phone_numbers = phone_numbers
        self.direction: Direction = direction

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        return cls(
            str(args["agent_id"]), int(args["version"]), tuple(args["unassign_phone_numbers"]), args["direction"]
        )

    def arguments(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "version": self.version,
            "direction": self.direction,
            "unassign_phone_numbers": list(self.phone_numbers),
        }

    def subject(self) -> str:
        return _numbers_subject(self.phone_numbers)

    def targets(self) -> list[str]:
        return [number_uri(phone) for phone in self.phone_numbers]

    def describe(self, label: str) -> str:
        return f"take {label} off the {self.direction} slot of {', '.join(self.phone_numbers)}"

    async def run(self, client: AnyreachClient, running: Running) -> object:
        return await client.agents.publish(
            self.agent_id, self.version, unassign_phone_numbers=self.phone_numbers, direction=self.direction
        )
