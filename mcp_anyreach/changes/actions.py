"""Each change a plan can make is one class: what it plans (its typed arguments), how a person reads it
(`describe`, the step's detail), which single-call tool does the same (`tool`, which the audit log and the gate
name), how it runs (`run`, one API call) and what it means for an interrupted move (`forgets_move`).

The planner builds these and the executor runs them, both by type. A plan keeps each one as an `action` name
and its `arguments()` (plain JSON without secrets: a password is the name of the environment variable that
holds it), so that a shared store can hold plans, and plans stored before still load (`CHANGES[action].of`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, Self, cast

from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient, InboundConfig, OutboundConfig
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.summaries import routing_sentence
from mcp_anyreach.domain.uris import ROUTING_URI, number_uri, trunk_uri

Action = Literal[
    "create_trunk",
    "update_trunk",
    "delete_trunk",
    "delete_number",
    "register_number",
    "set_shareable",
    "publish",
    "unassign",
    "create_routing",
    "update_routing",
    "delete_routing",
]
Side = Literal["inbound", "outbound"]
Direction = Literal["inbound", "outbound", "both"]
# A trunk config as a plan holds it: API-shaped JSON whose password is `{"env": NAME}`.
Config = dict[str, Any]
# Only variables made for documents can be read by one: never the server's token, secrets or cloud keys.
SECRET_PREFIX = "ANYREACH_SIP_"  # noqa: S105  # a variable name's prefix, not a secret


def password_variable(config: object) -> str | None:
    """The environment variable a trunk config reads its password from (`{"auth_password": {"env": ...}}`)."""
    if not isinstance(config, dict):
        return None
    reference = cast("dict[str, object]", config).get("auth_password")
    if not isinstance(reference, dict):
        return None
    return str(cast("dict[str, object]", reference).get("env"))


class Running:
    """What the steps of one apply share: where passwords are read, and the trunks created so far by name."""

    __slots__ = ("created", "env")

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.created: dict[str, str] = {}


class Change(ABC):
    """One API call a plan makes. Its fields are its `__slots__`, set once in `__init__` and never changed.

    Plain classes, not dataclasses: the server loads these when it starts (the plan model reads a stored step
    into one), and a dataclass is built by generating and compiling code, which a host would wait for on every
    launch."""

    __slots__ = ()
    action: ClassVar[Action]
    tool: ClassVar[str]  # the single-call tool that does the same
    phrase: ClassVar[tuple[str, str]]  # (verb, noun) a plan's summary counts it under
    retry_safe: ClassVar[bool] = True  # whether a failed call may be sent again without doing it twice

    @classmethod
    @abstractmethod
    def of(cls, args: Mapping[str, Any]) -> Self:
        """The change a plan stored as `arguments()`."""

    @abstractmethod
    def arguments(self) -> dict[str, Any]:
        """What a plan stores and the audit log records, in the order plans have always had them."""

    @abstractmethod
    def subject(self) -> str:
        """What the change is about, for a person: a number, a trunk, the routing config."""

    @abstractmethod
    def targets(self) -> list[str]:
        """The resources the change writes, whose freshness a plan checks."""

    @abstractmethod
    async def run(self, client: AnyreachClient, running: Running) -> object:
        """Make the API call."""

    def password_variables(self) -> list[str]:
        """The environment variables the call reads trunk passwords from."""
        return []

    def forgets_move(self) -> str | None:
        """The number whose earlier unfinished move this change ends on purpose, when it is not itself a move."""
        return None

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and cast("Change", other)._fields() == self._fields()

    __hash__ = None  # type: ignore[assignment]  # fields may be dicts

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


# Trunks


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


# Numbers


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


# Agents


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


# Routing


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


CHANGES: dict[Action, type[Change]] = {
    change.action: change
    for change in (
        CreateTrunk,
        UpdateTrunk,
        DeleteTrunk,
        DeleteNumber,
        RegisterNumber,
        SetShareable,
        Publish,
        Unassign,
        CreateRouting,
        UpdateRouting,
        DeleteRouting,
    )
}
