"""Typed objects of the Anyreach Telephony API.

Every model accepts fields it does not know (the real service may add some). SIP passwords are
`SecretStr`: hidden in repr and in ordinary dumps; only `to_request_json` reveals them, for the wire.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, SerializationInfo, field_serializer

__all__ = [
    "UNSET",
    "Agent",
    "AgentDetail",
    "AgentVersion",
    "AnyreachModel",
    "AvailableNumber",
    "InboundConfig",
    "InboundRoutingConfig",
    "NumberCapabilities",
    "OutboundConfig",
    "Page",
    "PhoneNumber",
    "Trunk",
    "Unset",
    "to_request_json",
]

REVEAL_SECRETS = "reveal_secrets"


class Unset(enum.Enum):
    """Marks an argument the caller did not pass, distinct from an explicit None (which sends null)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


class AnyreachModel(BaseModel):
    # Validators are built on first use: a process that never touches a model never pays for it.
    model_config = ConfigDict(extra="allow", defer_build=True)


class _HasPassword(AnyreachModel):
    auth_password: SecretStr | None = Field(default=None, repr=False)
    auth_password_set: bool | None = None

    @property
    def password_set(self) -> bool:
        """Whether the trunk has a password: the service says so, or this config carries one to send."""
        return bool(self.auth_password_set) or self.auth_password is not None

    @field_serializer("auth_password")
    def _serialize_password(self, value: SecretStr | None, info: SerializationInfo) -> str | None:
        if value is None:
            return None
        context: object = info.context
        reveal = isinstance(context, dict) and REVEAL_SECRETS in context
        return value.get_secret_value() if reveal else str(value)


class InboundConfig(_HasPassword):
    """How calls reach Anyreach over a customer-owned trunk."""

    enable_noise_cancellation: bool = False
    media_encryption: str = "NONE"
    allowed_addresses: list[str] = Field(default_factory=list[str])
    allowed_numbers: list[str] = Field(default_factory=list[str])
    auth_username: str | None = None


class OutboundConfig(_HasPassword):
    """Where Anyreach places outbound calls over a customer-owned trunk."""

    address: str
    auth_username: str | None = None
    transport: str = "UDP"
    media_encryption: str = "NONE"
    headers: dict[str, str] = Field(default_factory=dict[str, str])


class PhoneNumber(AnyreachModel):
    phone_number: str
    trunk_id: str
    inbound_agent_version_id: str | None = None
    outbound_agent_version_id: str | None = None
    outbound_shareable: bool = False
    organization_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def agent_version_id(self, side: Literal["inbound", "outbound"]) -> str | None:
        """The agent version on the `side` slot, or None."""
        return self.inbound_agent_version_id if side == "inbound" else self.outbound_agent_version_id


class Trunk(AnyreachModel):
    id: str
    name: str
    managed_account_id: str | None = None
    inbound_config: InboundConfig | None = None
    outbound_config: OutboundConfig | None = None
    organization_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def kind(self) -> Literal["managed", "byoc"]:
        """Managed trunks belong to a shared (Twilio) account; BYOC trunks to the customer's carrier."""
        return "managed" if self.managed_account_id else "byoc"


class NumberCapabilities(AnyreachModel):
    voice: bool = False
    sms: bool = False
    mms: bool = False


class AvailableNumber(AnyreachModel):
    """A number the managed account offers for purchase."""

    phone_number: str
    friendly_name: str | None = None
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    iso_country: str | None = None
    rate_center: str | None = None
    lata: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    phone_number_type: str | None = None
    capabilities: NumberCapabilities | None = None
    address_requirements: str | None = None


class InboundRoutingConfig(AnyreachModel):
    """The organization's one inbound-routing workflow."""

    id: str
    organization_id: str | None = None
    enabled: bool = True
    workflow_id: str | None = None
    workflow_version: int | None = None
    workflow_definition: dict[str, Any] | None = None
    fallback_agent_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Agent(AnyreachModel):
    """What answers or places calls; its behaviour lives in numbered versions."""

    id: str
    name: str
    description: str | None = None
    active: bool = True
    is_demo: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict[str, Any])
    organization_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class AgentVersion(AnyreachModel):
    """A draft or published version; its `id` (`agv_…`) is what a number's agent slots hold."""

    id: str
    agent_id: str | None = None
    version: int
    published: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


class AgentDetail(Agent):
    """One agent with its versions and the numbers that have one of them on a slot."""

    versions: list[AgentVersion] = Field(default_factory=list[AgentVersion])
    phone_numbers: list[PhoneNumber] = Field(default_factory=list[PhoneNumber])

    @property
    def inbound_numbers(self) -> list[str]:
        """Numbers this agent answers: one of its versions is on their inbound slot."""
        own = {version.id for version in self.versions}
        return [row.phone_number for row in self.phone_numbers if row.inbound_agent_version_id in own]

    @property
    def outbound_numbers(self) -> list[str]:
        """Numbers this agent calls from: one of its versions is on their outbound slot."""
        own = {version.id for version in self.versions}
        return [row.phone_number for row in self.phone_numbers if row.outbound_agent_version_id in own]

    @property
    def latest_published(self) -> AgentVersion | None:
        return latest_published(self.versions)


def latest_published(versions: Iterable[AgentVersion]) -> AgentVersion | None:
    """The highest-numbered published version, the one a caller gets when it names no version."""
    return max((version for version in versions if version.published), key=lambda v: v.version, default=None)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` to get the next (None on the last).

    `possibly_incomplete`: the page is full but came without a next-page cursor this client recognises, so
    it may not be the last; a caller must say so rather than present the list as complete.
    """

    model_config = ConfigDict(defer_build=True)
    items: list[T]
    next_cursor: str | None = None
    possibly_incomplete: bool = False


def to_request_json(config: InboundConfig | OutboundConfig, *, whole: bool = False) -> dict[str, Any]:
    """The wire form of a config, with the real password value: the fields the caller set, or with `whole` every
    field this client knows (for a PUT that replaces it; unknown fields the service returned stay out)."""
    if whole:
        known = set(type(config).model_fields) - {"auth_password_set"}
        return config.model_dump(mode="json", include=known, exclude_none=True, context={REVEAL_SECRETS: True})
    return config.model_dump(
        mode="json",
        exclude_unset=True,
        exclude_none=True,
        exclude={"auth_password_set"},
        context={REVEAL_SECRETS: True},
    )
