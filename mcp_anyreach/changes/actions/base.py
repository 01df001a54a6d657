"""What every change a plan can make has in common: the `Change` class each kind of API call subclasses, the
action names a plan stores, and the trunk password references the changes and the documents share."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self, cast

from mcp_anyreach.api import AnyreachClient

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


def organization_secrets(org_id: str) -> str:
    """The prefix of the variables a plan of `org_id` may read on a server of several organizations
    (`ANYREACH_SIP_ORG_4F1C_` for org_4f1c): one organization's plan never sends another's SIP password."""
    return f"{SECRET_PREFIX}{re.sub(r'[^A-Z0-9]', '_', org_id.upper())}_"


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
