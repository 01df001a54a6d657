"""Pydantic models: request bodies (strict, extra fields refused), query models and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, Json, model_validator

from mcp_anyreach.sandbox.validation import (
    E164,
    IpAddressOrNetwork,
    Name,
    Password,
    SipAddress,
    SipHeaderName,
    SipHeaderValue,
    SipUsername,
)

MediaEncryption = Literal["NONE", "ALLOW", "REQUIRE"]
Transport = Literal["UDP", "TCP", "TLS"]
Direction = Literal["inbound", "outbound", "both"]
# SQLite stores 64-bit integers; anything larger must be a 422, not an OverflowError (a 500).
VersionNumber = Annotated[int, Field(ge=1, le=2**31 - 1)]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"}, examples=["2026-11-07T05:31:56.000000Z"])]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InboundConfig(_Body):
    """Inbound SIP settings. ``auth_password`` is write-only and never returned."""

    enable_noise_cancellation: bool = False
    media_encryption: MediaEncryption = "NONE"
    allowed_addresses: list[IpAddressOrNetwork] = Field(default_factory=list[str], max_length=100)
    allowed_numbers: list[E164] = Field(default_factory=list[str], max_length=100)
    auth_username: SipUsername | None = None
    auth_password: Password | None = None

    @model_validator(mode="after")
    def _password_needs_username(self) -> InboundConfig:
        if self.auth_password is not None and self.auth_username is None:
            raise ValueError("auth_password needs auth_username; give both or neither")
        return self


class OutboundConfig(_Body):
    """Outbound SIP settings. On create all of address, auth_username and auth_password are required."""

    address: SipAddress
    auth_username: SipUsername
    auth_password: Password | None = None
    transport: Transport = "UDP"
    media_encryption: MediaEncryption = "NONE"
    headers: dict[SipHeaderName, SipHeaderValue] = Field(default_factory=dict[str, str], max_length=20)


class TrunkCreate(_Body):
    name: Name
    inbound_config: InboundConfig | None = None
    outbound_config: OutboundConfig | None = None


class TrunkUpdate(_Body):
    """Fields left out stay unchanged; a config set to null is removed."""

    name: Name | None = None
    inbound_config: InboundConfig | None = None
    outbound_config: OutboundConfig | None = None


class PhoneNumberCreate(_Body):
    phone_number: E164
    trunk_id: str = Field(min_length=1, max_length=64)
    outbound_shareable: bool = False


class PhoneNumberUpdate(_Body):
    outbound_shareable: bool


class PurchaseNumber(_Body):
    phone_number: E164


class Publish(_Body):
    phone_numbers: list[E164] = Field(default_factory=list[str], max_length=100)
    unassign_phone_numbers: list[E164] = Field(default_factory=list[str], max_length=100)
    direction: Direction = "inbound"


class RoutingConfigCreate(_Body):
    enabled: bool = True
    workflow_id: str | None = Field(default=None, min_length=1, max_length=128)
    workflow_version: VersionNumber | None = None
    workflow_definition: dict[str, Any] | None = None
    fallback_agent_id: str | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _one_workflow(self) -> RoutingConfigCreate:
        if (self.workflow_id is None) == (self.workflow_definition is None):
            raise ValueError("give exactly one of workflow_id or workflow_definition")
        if self.workflow_version is not None and self.workflow_id is None:
            raise ValueError("workflow_version needs workflow_id")
        return self


class RoutingConfigUpdate(_Body):
    """Fields left out stay unchanged; setting one workflow kind clears the other."""

    enabled: bool | None = None
    workflow_id: str | None = Field(default=None, min_length=1, max_length=128)
    workflow_version: VersionNumber | None = None
    workflow_definition: dict[str, Any] | None = None
    fallback_agent_id: str | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _not_both_workflows(self) -> RoutingConfigUpdate:
        if self.workflow_id is not None and self.workflow_definition is not None:
            raise ValueError("give workflow_id or workflow_definition, not both")
        return self


class ListQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=100)
    cursor: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None


class TrunkListQuery(ListQuery):
    name: str | None = Field(default=None, description="Case-insensitive substring of the trunk name.")


class PhoneNumberListQuery(ListQuery):
    phone_number: str | None = Field(default=None, description="Substring of the E.164 number.")
    trunk_id: str | None = None


class AgentListQuery(ListQuery):
    name: str | None = Field(default=None, description="Case-insensitive substring of the agent name.")
    active: bool | None = None
    is_demo: bool | None = None
    metadata: Json[dict[str, Any]] | None = Field(
        default=None,
        description='A JSON object: agents whose metadata has each of its keys with an equal value ({"team":"x"}).',
    )


class AgentVersionListQuery(ListQuery):
    version: VersionNumber | None = None
    published: bool | None = None


class PhoneNumber(BaseModel):
    phone_number: str
    trunk_id: str
    inbound_agent_version_id: str | None
    outbound_agent_version_id: str | None
    outbound_shareable: bool
    organization_id: str
    created_at: Timestamp
    updated_at: Timestamp


class _ConfigView(BaseModel):
    @classmethod
    def of(cls, config: InboundConfig | OutboundConfig) -> Self:
        shown = config.model_dump(exclude={"auth_password"})
        return cls.model_validate({**shown, "auth_password_set": config.auth_password is not None})


class InboundConfigView(_ConfigView):
    enable_noise_cancellation: bool
    media_encryption: MediaEncryption
    allowed_addresses: list[str]
    allowed_numbers: list[str]
    auth_username: str | None
    auth_password: None = None
    auth_password_set: bool


class OutboundConfigView(_ConfigView):
    address: str
    auth_username: str
    auth_password: None = None
    auth_password_set: bool
    transport: Transport
    media_encryption: MediaEncryption
    headers: dict[str, str]


class Trunk(BaseModel):
    id: str
    name: str
    managed_account_id: str | None
    inbound_config: InboundConfigView | None
    outbound_config: OutboundConfigView | None
    organization_id: str
    created_at: Timestamp
    updated_at: Timestamp


class InboundRoutingConfig(BaseModel):
    id: str
    organization_id: str
    enabled: bool
    workflow_id: str | None
    workflow_version: int | None
    workflow_definition: dict[str, Any] | None
    fallback_agent_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


class Agent(BaseModel):
    id: str
    name: str
    description: str | None
    active: bool
    is_demo: bool
    metadata: dict[str, Any]
    organization_id: str
    created_at: Timestamp
    updated_at: Timestamp


class AgentVersion(BaseModel):
    """Only a published version can sit on a number's inbound or outbound slot."""

    id: str
    agent_id: str
    version: int
    published: bool
    created_at: Timestamp
    updated_at: Timestamp


class AgentDetail(Agent):
    """One agent with all its versions and every number that has one of them on a slot."""

    versions: list[AgentVersion]
    phone_numbers: list[PhoneNumber]
