"""What tools and resources show a model: compact, typed, and never a secret."""

from __future__ import annotations

import json
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from mcp_anyreach.api import (
    AvailableNumber,
    InboundConfig,
    InboundRoutingConfig,
    OutboundConfig,
    PhoneNumber,
    Trunk,
)
from mcp_anyreach.api.agent_directory import AgentDirectory
from mcp_anyreach.domain.text import clipped

CLIP_BYTES = 4096
"""A blob larger than this (an inline workflow) is replaced in tool results by a note saying where it is whole."""


class Result(BaseModel):
    """What a tool or resource returns. Built on first use: a host waits for start-up on every launch."""

    model_config = ConfigDict(defer_build=True)


class View(Result):
    model_config = ConfigDict(extra="ignore")


class NumberView(View):
    phone_number: str
    trunk_id: str
    inbound_agent: str | None = None  # "Support v2": who answers its calls
    outbound_agent: str | None = None
    inbound_agent_version_id: str | None = None
    outbound_agent_version_id: str | None = None
    outbound_shareable: bool = False

    @classmethod
    def of(cls, number: PhoneNumber, agents: AgentDirectory | None = None) -> NumberView:
        view = cls.model_validate(number.model_dump())
        if agents is not None:
            view.inbound_agent = agent_label(agents, number.inbound_agent_version_id)
            view.outbound_agent = agent_label(agents, number.outbound_agent_version_id)
        return view


def agent_label(agents: AgentDirectory | None, version_id: str | None) -> str | None:
    """ "Support v2" for a slot's version id; the id itself when the directory does not know it."""
    if version_id is None:
        return None
    ref = agents.resolve(version_id) if agents is not None else None
    return clipped(ref.label) if ref is not None else version_id


def agent_named(agents: AgentDirectory | None, version_id: str) -> str:
    """ "Support v2 (agv_…)" for previews: the name a person knows and the id the API holds."""
    label = agent_label(agents, version_id)
    return version_id if label == version_id else f"{label} ({version_id})"


class AgentVersionView(View):
    version: int
    published: bool


class AgentView(View):
    id: str
    name: str
    active: bool = True
    latest_published: int | None = None
    answers: int | None = None  # numbers with one of its versions on the inbound slot


class AgentDetailView(AgentView):
    description: str | None = None
    versions: list[AgentVersionView] = []
    inbound_numbers: list[str] = []
    outbound_numbers: list[str] = []


class InboundView(View):
    enable_noise_cancellation: bool = False
    media_encryption: str = "NONE"
    allowed_addresses: list[str] = []
    allowed_numbers: list[str] = []
    auth_username: str | None = None
    password_set: bool = False


class OutboundView(View):
    address: str
    transport: str = "UDP"
    media_encryption: str = "NONE"
    auth_username: str | None = None
    password_set: bool = False
    headers: dict[str, str] = {}


class TrunkView(View):
    id: str
    name: str
    kind: Literal["managed", "byoc"]
    managed_account_id: str | None = None
    inbound: InboundView | None = None
    outbound: OutboundView | None = None

    @classmethod
    def of(cls, trunk: Trunk) -> TrunkView:
        return cls(
            id=trunk.id,
            name=clipped(trunk.name),
            kind=trunk.kind,
            managed_account_id=trunk.managed_account_id,
            inbound=_config_view(InboundView, trunk.inbound_config),
            outbound=_config_view(OutboundView, trunk.outbound_config),
        )


V = TypeVar("V", InboundView, OutboundView)


def _config_view(view: type[V], config: InboundConfig | OutboundConfig | None) -> V | None:
    if config is None:
        return None
    fields = config.model_dump(exclude={"auth_password", "auth_password_set"})
    return view.model_validate({**fields, "password_set": config.password_set})


class AvailableNumberView(View):
    phone_number: str
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    phone_number_type: str | None = None
    capabilities: list[str] = []
    address_requirements: str | None = None

    @classmethod
    def of(cls, offer: AvailableNumber) -> AvailableNumberView:
        caps = offer.capabilities
        flags = {"voice": caps.voice, "sms": caps.sms, "mms": caps.mms} if caps else {}
        return cls.model_validate(
            {
                **offer.model_dump(exclude={"capabilities"}),
                "capabilities": [k for k, on in flags.items() if on],
            }
        )


class RoutingView(View):
    enabled: bool
    workflow_id: str | None = None
    workflow_version: int | None = None
    workflow_definition: dict[str, Any] | None = None
    fallback_agent_id: str | None = None

    @classmethod
    def of(cls, config: InboundRoutingConfig, *, whole: bool = False) -> RoutingView:
        """With `whole`, the workflow definition however large (for the resource); else clipped."""
        view = cls.model_validate(config.model_dump())
        definition = view.workflow_definition
        if not whole and definition is not None:
            size = len(json.dumps(definition, separators=(",", ":")))
            if size > CLIP_BYTES:
                view.workflow_definition = {
                    "clipped": f"{size:,} bytes; read the anyreach://inbound-routing-config resource for all of it"
                }
        return view


T = TypeVar("T")


CURSOR_LOOP = (
    "The API answered with a next-page cursor this listing had already used, so it stops here and the list may "
    "be incomplete. Narrow the filters to see the rest."
)
POSSIBLY_INCOMPLETE = (
    "This page is full but came without a next-page cursor the server recognises, so there may be more. "
    "Narrow the filters to see the rest."
)


class Listing(Result, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    warning: str | None = None


def _unset(value: object) -> bool:
    return value is None


class Gated(Result, Generic[T]):
    """The outcome of a gated call. Only `done` (and `partial`: a change set stopped at a failing step) changed
    anything."""

    status: Literal["done", "partial", "confirmation_required", "declined", "cancelled"]
    message: str
    confirmation_token: str | None = None
    result: T | None = None
    now: list[str] | None = None  # after a confirmed delete or change set: what the API holds for each target
    # A call repeated with its used confirmation token, answered from the first outcome: nothing changed now. Left
    # out unless set, so every other outcome reads as before.
    repeat: bool | None = Field(default=None, exclude_if=_unset)
    # Where what a confirmed write replaced is recorded: plan_changes' undo operation takes it. Left out unless set.
    undo_id: str | None = Field(default=None, exclude_if=_unset)
