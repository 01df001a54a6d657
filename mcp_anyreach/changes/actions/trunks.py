"""Changes to BYOC trunks: create, update (only the sides named) and delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self, cast

from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient, InboundConfig, OutboundConfig
from mcp_anyreach.changes.actions.base import Action, Change, Config, Running, Side, password_variable
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.uris import trunk_uri


def _configs_of(args: Mapping[str, Any]) -> dict[Side, Config | None]:
    return {side: args[f"{side}_config"] for side in ("inbound", "outbound") if f"{side}_config" in args}


def _config(
    model: type[InboundConfig] | type[OutboundConfig], data: Mapping[str, Any] | None, env: Mapping[str, str]
) -> Any:
    if data is None:
        return None
    fields = dict(data)
    reference = fields.pop("auth_password", None)
    config = model.model_validate(fields)
    if isinstance(reference, Mapping):
        name = str(reference.get("env"))  # type: ignore[union-attr]
        if name not in env:
            raise Refusal(f"The environment variable {name}, which holds a trunk password, is not set.")
        config.auth_password = SecretStr(env[name])
    return config


def _api_config(side: Side, data: Mapping[str, Any] | None, env: Mapping[str, str]) -> Any:
    return _config(InboundConfig if side == "inbound" else OutboundConfig, data, env)


class CreateTrunk(Change):
    action: ClassVar[Action] = "create_trunk"
    tool: ClassVar[str] = "create_trunk"
    phrase: ClassVar[tuple[str, str]] = ("create", "trunk")
    retry_safe: ClassVar[bool] = False

    __slots__ = ("configs", "name")

    def __init__(self, name: str, configs: Mapping[Side, Config] | None = None) -> None:
        self.name = name
        self.configs: Mapping[Side, Config] = configs or {}

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        return cls(str(args["name"]), {side: c for side, c in _configs_of(args).items() if c is not None})

    def arguments(self) -> dict[str, Any]:
        return {"name": self.name, **{f"{side}_config": config for side, config in self.configs.items()}}

    def subject(self) -> str:
        return self.name

    def targets(self) -> list[str]:
        return []

    def describe(self, settings: Sequence[str]) -> str:
        """`settings`: each side's config as a sentence, `inbound: allowed_addresses [...], ...`."""
        return f"create BYOC trunk {self.name!r}" + (f" ({'; '.join(settings)})" if settings else "")

    async def run(self, client: AnyreachClient, running: Running) -> object:
        trunk = await client.trunks.create(
            name=self.name,
            inbound_config=_api_config("inbound", self.configs.get("inbound"), running.env),
            outbound_config=_api_config("outbound", self.configs.get("outbound"), running.env),
        )
        running.created[trunk.name] = trunk.id
        return trunk.id

    def password_variables(self) -> list[str]:
        return [name for config in self.configs.values() if (name := password_variable(config)) is not None]


class UpdateTrunk(Change):
    """Sends each config in `configs` (None removes that side); a side left out keeps its config."""

    action: ClassVar[Action] = "update_trunk"
    tool: ClassVar[str] = "update_trunk"
    phrase: ClassVar[tuple[str, str]] = ("update", "trunk")

    __slots__ = ("configs", "trunk_id")

    def __init__(self, trunk_id: str, configs: Mapping[Side, Config | None]) -> None:
        self.trunk_id = trunk_id
        self.configs = configs

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        # In the order stored: a side whose password is only sent again comes after the sides that change.
        configs = {key.removesuffix("_config"): value for key, value in args.items() if key.endswith("_config")}
        return cls(str(args["trunk_id"]), cast("dict[Side, Config | None]", configs))

    def arguments(self) -> dict[str, Any]:
        return {"trunk_id": self.trunk_id, **{f"{side}_config": config for side, config in self.configs.items()}}

    def subject(self) -> str:
        return self.trunk_id

    def targets(self) -> list[str]:
        return [trunk_uri(self.trunk_id)]

    def describe(self, trunk_name: str, changes: Sequence[str]) -> str:
        """`changes`: one sentence per side sent, `outbound: transport TLS -> TCP`."""
        return f"update BYOC trunk {trunk_name!r}: " + "; ".join(changes)

    async def run(self, client: AnyreachClient, running: Running) -> object:
        changes = {f"{side}_config": _api_config(side, config, running.env) for side, config in self.configs.items()}
        return await client.trunks.update(self.trunk_id, **changes)

    def password_variables(self) -> list[str]:
        return [name for config in self.configs.values() if (name := password_variable(config)) is not None]


class DeleteTrunk(Change):
    action: ClassVar[Action] = "delete_trunk"
    tool: ClassVar[str] = "delete_trunk"
    phrase: ClassVar[tuple[str, str]] = ("delete", "trunk")

    __slots__ = ("trunk_id",)

    def __init__(self, trunk_id: str) -> None:
        self.trunk_id = trunk_id

    @classmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        return cls(str(args["trunk_id"]))

    def arguments(self) -> dict[str, Any]:
        return {"trunk_id": self.trunk_id}

    def subject(self) -> str:
        return self.trunk_id

    def targets(self) -> list[str]:
        return [trunk_uri(self.trunk_id)]

    def describe(self, trunk_name: str) -> str:
        return f"delete BYOC trunk {trunk_name!r} ({self.trunk_id})"

    async def run(self, client: AnyreachClient, running: Running) -> object:
        return await client.trunks.delete(self.trunk_id)
