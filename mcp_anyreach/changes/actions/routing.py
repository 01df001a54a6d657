"""Changes to the account's one inbound routing config: create, update and delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.actions.base import Action, Change, Running
from mcp_anyreach.domain.summaries import routing_sentence
from mcp_anyreach.domain.uris import ROUTING_URI


class CreateRouting(Change):
    """`fields`: the API's routing fields (enabled, workflow_id or workflow_definition, fallback_agent_id...)."""

    action: ClassVar[Action] = "create_routing"
    tool: ClassVar[str] = "create_inbound_routing_config"
    phrase: ClassVar[tuple[str, str]] = ("create", "routing config")
    retry_safe: ClassVar[bool] = False

    __slots__ = ("fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        return cls(dict(args))

    def arguments(self) -> dict[str, Any]:
        return dict(self.fields)

    def subject(self) -> str:
        return "routing"

    def targets(self) -> list[str]:
        return [ROUTING_URI]

    def describe(self) -> str:
        return f"create inbound routing: {routing_sentence(self.fields)}"

    async def run(self, client: AnyreachClient, running: Running) -> object:
        return await client.inbound_routing.create(**self.fields)


class UpdateRouting(Change):
    """`changes`: the routing fields that change (the client sends the config whole)."""

    action: ClassVar[Action] = "update_routing"
    tool: ClassVar[str] = "update_inbound_routing_config"
    phrase: ClassVar[tuple[str, str]] = ("update", "routing config")

    __slots__ = ("changes",)

    def __init__(self, changes: Mapping[str, Any]) -> None:
        self.changes = changes

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        return cls(dict(args))

    def arguments(self) -> dict[str, Any]:
        return dict(self.changes)

    def subject(self) -> str:
        return "routing"

    def targets(self) -> list[str]:
        return [ROUTING_URI]

    def describe(self, after: Mapping[str, Any]) -> str:
        """`after`: the whole config once changed."""
        return f"change inbound routing; after: {routing_sentence(after)}"

    async def run(self, client: AnyreachClient, running: Running) -> object:
        return await client.inbound_routing.update(**self.changes)


class DeleteRouting(Change):
    action: ClassVar[Action] = "delete_routing"
    tool: ClassVar[str] = "delete_inbound_routing_config"
    phrase: ClassVar[tuple[str, str]] = ("delete", "routing config")

    __slots__ = ()

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        return cls()

    def arguments(self) -> dict[str, Any]:
        return {}

    def subject(self) -> str:
        return "routing"

    def targets(self) -> list[str]:
        return [ROUTING_URI]

    def describe(self, before: Mapping[str, Any]) -> str:
        """`before`: the config as it is now."""
        return f"delete inbound routing (now: {routing_sentence(before)})"

    async def run(self, client: AnyreachClient, running: Running) -> object:
        return await client.inbound_routing.delete()
