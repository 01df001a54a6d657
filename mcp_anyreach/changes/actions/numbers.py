"""Changes to phone numbers: delete, register on a trunk, and allow or forbid outbound sharing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.actions.base import Action, Change, Running
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.uris import number_uri


class DeleteNumber(Change):
    action: ClassVar[Action] = "delete_number"
    tool: ClassVar[str] = "delete_phone_number"
    phrase: ClassVar[tuple[str, str]] = ("delete", "number")

    __slots__ = ("phone_number",)

    def __init__(self, phone_number: str) -> None:
        self.phone_number = phone_number

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        return cls(str(args["phone_number"]))

    def arguments(self) -> dict[str, Any]:
        return {"phone_number": self.phone_number}

    def subject(self) -> str:
        return self.phone_number

    def targets(self) -> list[str]:
        return [number_uri(self.phone_number)]

    def describe(self, *, moving_from: str | None = None, released: bool = False) -> str:
        """`moving_from`: the trunk the number leaves to be registered again elsewhere (a move's first step);
        `released`: a number bought through Anyreach, which a delete gives up."""
        if moving_from is not None:
            return f"delete {self.phone_number} from trunk {moving_from} (to move it)"
        return f"delete {self.phone_number}" + (" (bought through Anyreach: released)" if released else "")

    async def run(self, client: AnyreachClient, running: Running) -> object:
        return await client.phone_numbers.delete(self.phone_number)

    def forgets_move(self) -> str | None:
        # A number deleted on purpose must not come back with its old agents when planning again.
        return self.phone_number


class RegisterNumber(Change):
    """On the trunk `trunk_id`, or on the trunk named `trunk_name` that the same plan creates first."""

    action: ClassVar[Action] = "register_number"
    tool: ClassVar[str] = "register_phone_number"
    phrase: ClassVar[tuple[str, str]] = ("register", "number")
    retry_safe: ClassVar[bool] = False

    __slots__ = ("outbound_shareable", "phone_number", "trunk_id", "trunk_name")

    def __init__(
        self, phone_number: str, outbound_shareable: bool, trunk_id: str | None = None, trunk_name: str | None = None
    ) -> None:
        self.phone_number = phone_number
        self.outbound_shareable = outbound_shareable
        self.trunk_id = trunk_id
        self.trunk_name = trunk_name

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        phone, shareable = str(args["phone_number"]), bool(args["outbound_shareable"])
        return cls(phone, shareable, args.get("trunk_id"), args.get("trunk_name"))

    def arguments(self) -> dict[str, Any]:
        on = {"trunk_name": self.trunk_name} if self.trunk_id is None else {"trunk_id": self.trunk_id}
        return {"phone_number": self.phone_number, "outbound_shareable": self.outbound_shareable, **on}

    def subject(self) -> str:
        return self.phone_number

    def targets(self) -> list[str]:
        return [number_uri(self.phone_number)]

    def describe(self, trunk_label: str) -> str:
        shareable = ", outbound shareable" if self.outbound_shareable else ""
        return f"register {self.phone_number} on trunk {trunk_label}{shareable}"

    async def run(self, client: AnyreachClient, running: Running) -> object:
        trunk_id = self.trunk_id or running.created.get(self.trunk_name or "")
        if trunk_id is None:
            raise Refusal(f"The trunk {self.trunk_name!r} this plan was to create does not exist.")
        return await client.phone_numbers.create(
            phone_number=self.phone_number, trunk_id=trunk_id, outbound_shareable=self.outbound_shareable
        )


class SetShareable(Change):
    action: ClassVar[Action] = "set_shareable"
    tool: ClassVar[str] = "update_phone_number"
    phrase: ClassVar[tuple[str, str]] = ("change outbound sharing of", "number")

    __slots__ = ("outbound_shareable", "phone_number")

    def __init__(self, phone_number: str, outbound_shareable: bool) -> None:
        self.phone_number = phone_number
        self.outbound_shareable = outbound_shareable

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        return cls(str(args["phone_number"]), bool(args["outbound_shareable"]))

    def arguments(self) -> dict[str, Any]:
        return {"phone_number": self.phone_number, "outbound_shareable": self.outbound_shareable}

    def subject(self) -> str:
        return self.phone_number

    def targets(self) -> list[str]:
        return [number_uri(self.phone_number)]

    def describe(self) -> str:
        return f"{'allow' if self.outbound_shareable else 'forbid'} outbound sharing of {self.phone_number}"

    async def run(self, client: AnyreachClient, running: Running) -> object:
        return await client.phone_numbers.update(self.phone_number, outbound_shareable=self.outbound_shareable)
