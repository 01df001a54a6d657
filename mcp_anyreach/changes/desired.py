"""The desired-state document: what the account should look like, for pipelines (GitOps) and for agents.

It names BYOC trunks by name with their configs, numbers with their trunk (by name), sharing and the agent
on each slot (by id or name, a version or the latest published one), and the inbound routing config.
Secrets are referenced, never written: `auth_password: {env: ANYREACH_SIP_CARRIER}`, and only variables named
ANYREACH_SIP_... can be referenced (read when the plan is applied). What the document does not
mention is left alone: a field left out keeps its value (within a trunk side too; `null` clears an optional
field), a section left out is not touched, and only a section with `prune: true` deletes what it does not
list. `routing: null` means "no routing config".

A password cannot be read back, and an update sends the whole trunk, so a trunk that changes needs the
password of every side that keeps authentication; a side that only references its password then sends it
again. Changing only a password is a job for update_trunk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from mcp_anyreach.api import InboundConfig, OutboundConfig, Trunk
from mcp_anyreach.changes.actions import SECRET_PREFIX, Side
from mcp_anyreach.changes.agents import agent_slot, find_agent
from mcp_anyreach.changes.model import KEEP, SLOTS, Keep, MoveIntent, NumberTarget, SlotTarget
from mcp_anyreach.changes.snapshot import Snapshot
from mcp_anyreach.domain.args import E164, AgentRef, Identifier, InboundArgs, OutboundArgs, SmallJson, TrunkName
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.uris import SCHEMA_URI
from mcp_anyreach.domain.workflows import check_definition
from mcp_anyreach.validation import describe

_ENV_NAME = rf"^{SECRET_PREFIX}[A-Z0-9_]{{1,100}}$"
HOW_TO_REFERENCE = (
    f"put it in an environment variable named {SECRET_PREFIX}... and write auth_password: "
    f"{{env: {SECRET_PREFIX}CARRIER}}"
)


def _documented_variable(name: str) -> str:
    # Judged by its name alone: whether any other variable exists is never looked up, so never told.
    if not re.fullmatch(_ENV_NAME, name):
        raise ValueError(
            f"only environment variables named {SECRET_PREFIX}... (capitals, digits, _) can hold a trunk password; "
            f"put the password in one, like {SECRET_PREFIX}CARRIER, and reference that"
        )
    return name


EnvName = Annotated[str, AfterValidator(_documented_variable), Field(json_schema_extra={"pattern": _ENV_NAME})]


def _no_literal_password(value: object) -> object:
    if isinstance(value, str):
        raise ValueError(f"a password is never written in a document: {HOW_TO_REFERENCE}")
    return value


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class SecretRef(_Doc):
    """A secret kept out of the document: the environment variable that holds it when the plan is applied."""

    env: EnvName = Field(description=f"A variable named {SECRET_PREFIX}..., read when the plan is applied")


PasswordRef = Annotated[SecretRef | None, BeforeValidator(_no_literal_password)]


class InboundDoc(_Doc):
    allowed_addresses: list[str] = Field(default=[], description="Carrier IPs/CIDRs; empty: any")
    allowed_numbers: list[E164] = Field(default=[], description="Allowed callers; empty: any")
    auth_username: str | None = None
    auth_password: PasswordRef = Field(default=None, description="Omitted: keep the current one")
    media_encryption: Literal["NONE", "ALLOW", "REQUIRE"] = "NONE"
    enable_noise_cancellation: bool = False

    @model_validator(mode="after")
    def _valid_for_the_api(self) -> InboundDoc:
        InboundArgs.model_validate({**self.model_dump(exclude={"auth_password"}), "auth_password": None})
        return self


class OutboundDoc(_Doc):
    # Required for a new outbound config (checked when the trunk is compiled); a field left out of an existing
    # one keeps its value, and the non-null type refuses a null for a field the API requires.
    address: str = Field(default=None, description="Required for a new config")  # pyright: ignore[reportAssignmentType]
    auth_username: str = Field(default=None, description="Required for a new config")  # pyright: ignore[reportAssignmentType]
    auth_password: PasswordRef = Field(default=None, description="Required for a new config")
    transport: Literal["UDP", "TCP", "TLS"] = "UDP"
    media_encryption: Literal["NONE", "ALLOW", "REQUIRE"] = "NONE"
    headers: dict[str, str] = {}

    @model_validator(mode="after")
    def _valid_for_the_api(self) -> OutboundDoc:
        given = self.model_dump(exclude={"auth_password"}, exclude_unset=True)
        OutboundArgs.model_validate({**given, "auth_password": "placeholder"})
        return self


class TrunkDoc(_Doc):
    name: TrunkName
    managed: bool = Field(default=False, description="A purchased numbers' trunk: named only, never changed")
    inbound: InboundDoc | None = Field(default=None, description="Omitted: leave; null: remove")
    outbound: OutboundDoc | None = Field(default=None, description="Omitted: leave; null: remove")


class TrunksSection(_Doc):
    prune: bool = Field(default=False, description="Delete BYOC trunks not listed")
    items: list[TrunkDoc] = []


class AgentVersionDoc(_Doc):
    agent: AgentRef
    version: int | Literal["latest"] = Field(default="latest", description="A number, or the latest published")


AgentDoc = Annotated[
    AgentRef | AgentVersionDoc, Field(description="Agent id or name (latest published), or {agent, version}")
]


class NumberDoc(_Doc):
    phone_number: E164
    trunk: TrunkName = Field(description="Trunk name")
    outbound_shareable: bool = Field(default=False, description="Omitted: leave")
    inbound_agent: AgentDoc | None = Field(default=None, description="Omitted: leave; null: nobody")
    outbound_agent: AgentDoc | None = Field(default=None, description="Omitted: leave; null: nobody")


class NumbersSection(_Doc):
    prune: bool = Field(default=False, description="Delete numbers not listed (purchased ones included)")
    items: list[NumberDoc] = []


class RoutingDoc(_Doc):
    enabled: bool = True
    workflow_id: Identifier | None = None
    workflow_version: int | None = Field(default=None, ge=1)
    workflow_definition: SmallJson | None = None
    fallback_agent: AgentRef | None = Field(default=None, description="Agent id or name; null: none")

    @model_validator(mode="after")
    def _one_workflow(self) -> RoutingDoc:
        if (self.workflow_id is None) == (self.workflow_definition is None):
            raise ValueError("give exactly one of workflow_id or workflow_definition")
        if self.workflow_definition is not None:
            try:
                check_definition(self.workflow_definition)
            except Refusal as refused:
                raise ValueError(str(refused)) from None
        return self


class DesiredState(_Doc):
    """What the account should look like. Sections left out are not touched."""

    version: Literal[1] = 1
    organization: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The organization it is for (an id or a name from ANYREACH_ORG_ID); omitted: the one chosen",
    )
    trunks: TrunksSection | None = None
    numbers: NumbersSection | None = None
    routing: RoutingDoc | None = Field(default=None, description="Omitted: leave; null: delete the config")


def desired_state_schema(*, several_organizations: bool = False) -> dict[str, Any]:
    """The document's JSON schema; `organization` is shown only where several organizations are configured (with
    one, the schema stays as it always was)."""
    schema = DesiredState.model_json_schema()
    if not several_organizations:
        del schema["properties"]["organization"]
    schema["$id"] = SCHEMA_URI
    return schema


def load_document(source: str | Mapping[str, Any], *, from_file: bool = False) -> DesiredState:
    """A document from YAML or JSON text (or already parsed), or a Refusal naming what is wrong. Blocking (it
    parses): run it off the event loop. A file from the command line may be larger than a tool's argument."""
    from mcp_anyreach.changes.document_text import parse_document  # YAML: only when a document comes

    parsed = parse_document(source, from_file=from_file)
    try:
        return DesiredState.model_validate(parsed)
    except ValidationError as exc:
        problems = describe(exc, whole="document", limit=5)
        raise Refusal(f"The desired state is not valid: {problems}. {SCHEMA_URI} describes it.") from None


class TrunkTarget(BaseModel):
    """A trunk the document wants (or, with `present` false, wants gone). Configs are API-shaped JSON with
    passwords as `{"env": NAME}`; `None` removes a config; a missing key leaves it."""

    model_config = ConfigDict(defer_build=True)

    name: str
    trunk_id: str | None = None
    present: bool = True
    configs: dict[Side, dict[str, Any] | None] = {}


RoutingTarget = dict[str, Any] | None | Keep


class DesiredTargets(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    numbers: dict[str, NumberTarget]
    trunks: list[TrunkTarget]
    routing: Any = KEEP  # RoutingTarget


def compile_document(doc: DesiredState, snapshot: Snapshot, interrupted: Mapping[str, MoveIntent]) -> DesiredTargets:
    trunks = _trunk_targets(doc.trunks, snapshot)
    named = {target.name: target for target in trunks}
    numbers: dict[str, NumberTarget] = {}
    if doc.numbers is not None:
        for item in doc.numbers.items:
            if item.phone_number in numbers:
                raise Refusal(f"{item.phone_number} is listed twice in numbers.")
            numbers[item.phone_number] = _number_target(item, named, snapshot, interrupted)
        if doc.numbers.prune:
            for phone in snapshot.numbers:
                numbers.setdefault(phone, NumberTarget(phone, present=False))
    routing: RoutingTarget = KEEP
    if "routing" in doc.model_fields_set:
        routing = None if doc.routing is None else _routing_target(doc.routing, snapshot)
    return DesiredTargets(numbers=numbers, trunks=trunks, routing=routing)


def _trunk_targets(section: TrunksSection | None, snapshot: Snapshot) -> list[TrunkTarget]:
    if section is None:
        return []
    targets: list[TrunkTarget] = []
    for item in section.items:
        if any(target.name == item.name for target in targets):
            raise Refusal(f"The trunk {item.name!r} is listed twice in trunks.")
        existing = snapshot.trunk_named(item.name)
        if item.managed or (existing is not None and existing.managed_account_id):
            if existing is None or not existing.managed_account_id:
                raise Refusal(
                    f"There is no managed trunk named {item.name!r}: managed trunks come with numbers bought through "
                    "Anyreach (search_available_numbers, purchase_phone_number). Drop managed: true for a BYOC trunk."
                )
            if {"inbound", "outbound"} & item.model_fields_set:
                raise Refusal(f"Trunk {item.name!r} is managed: its configs cannot be changed; remove them.")
            targets.append(TrunkTarget(name=item.name, trunk_id=existing.id))
            continue
        configs: dict[Side, dict[str, Any] | None] = {}
        for side in SLOTS:
            if side in item.model_fields_set:
                config: InboundDoc | OutboundDoc | None = getattr(item, side)
                # Only the fields written: the planner lays them over the current side, so one left out stays.
                configs[side] = None if config is None else _written(config)
        if (outbound := configs.get("outbound")) is not None and (existing is None or existing.outbound_config is None):
            missing = [name for name in ("address", "auth_username", "auth_password") if outbound.get(name) is None]
            if missing:
                raise Refusal(
                    f"Trunk {item.name!r} gets a new outbound config, which needs address, auth_username and "
                    f"auth_password: {{env: {SECRET_PREFIX}NAME}}; add {', '.join(missing)}."
                )
        targets.append(TrunkTarget(name=item.name, trunk_id=existing.id if existing else None, configs=configs))
    if section.prune:
        listed = {target.name for target in targets}
        targets += [
            TrunkTarget(name=trunk.name, trunk_id=trunk.id, present=False)
            for trunk in snapshot.trunks.values()
            if not trunk.managed_account_id and trunk.name not in listed
        ]
    return targets


def _written(config: InboundDoc | OutboundDoc) -> dict[str, Any]:
    written = config.model_dump(mode="json", exclude_unset=True)
    if written.get("auth_password") is None:
        written.pop("auth_password", None)
    return written


def _number_target(
    item: NumberDoc, named: Mapping[str, TrunkTarget], snapshot: Snapshot, interrupted: Mapping[str, MoveIntent]
) -> NumberTarget:
    trunk = _trunk_key(item.trunk, named, snapshot)
    fields = item.model_fields_set
    intent = interrupted.get(item.phone_number)
    base = intent.target() if intent is not None and intent.trunk_id == trunk else NumberTarget(item.phone_number)
    slots: dict[str, SlotTarget] = {}
    for side in ("inbound", "outbound"):
        if f"{side}_agent" in fields:
            ref: str | AgentVersionDoc | None = getattr(item, f"{side}_agent")
            slots[side] = _slot(ref, snapshot)
    return base.merged(
        NumberTarget(
            item.phone_number,
            trunk=trunk,
            outbound_shareable=item.outbound_shareable if "outbound_shareable" in fields else KEEP,
            inbound=slots.get("inbound", KEEP),
            outbound=slots.get("outbound", KEEP),
        )
    )


def _slot(ref: str | AgentVersionDoc | None, snapshot: Snapshot) -> SlotTarget:
    if ref is None:
        return None
    if isinstance(ref, str):
        return agent_slot(snapshot.directory, ref, None)
    return agent_slot(snapshot.directory, ref.agent, None if ref.version == "latest" else ref.version)


def _trunk_key(name: str, named: Mapping[str, TrunkTarget], snapshot: Snapshot) -> str:
    """The trunk's id, or `name:<name>` for a trunk this plan creates."""
    target = named.get(name)
    if target is not None:
        if not target.present:
            raise Refusal(f"Trunk {name!r} is pruned, yet numbers are listed on it.")
        return target.trunk_id or f"name:{name}"
    existing = snapshot.trunk_named(name)
    if existing is None:
        raise Refusal(f"No trunk is named {name!r}, in the document or the account; add it under trunks.")
    return existing.id


def _routing_target(doc: RoutingDoc, snapshot: Snapshot) -> dict[str, Any]:
    fallback = None if doc.fallback_agent is None else find_agent(snapshot.directory, doc.fallback_agent).id
    return {
        "enabled": doc.enabled,
        "workflow_id": doc.workflow_id,
        "workflow_version": doc.workflow_version,
        "workflow_definition": doc.workflow_definition,
        "fallback_agent_id": fallback,
    }


def export_document(snapshot: Snapshot, *, organization: str | None = None) -> dict[str, Any]:
    """Today's account as a document (no secrets): planning it against the same account finds nothing to do.
    `organization` (where several are configured) is written at the top, so the document names where it belongs."""
    names = [trunk.name for trunk in snapshot.trunks.values()]
    if duplicated := sorted({name for name in names if names.count(name) > 1}):
        raise Refusal(f"Several trunks share the names {duplicated}; a document names trunks, so rename them first.")
    trunks = [_trunk_doc(trunk) for trunk in snapshot.trunks.values()]
    numbers = [
        {
            "phone_number": number.phone_number,
            "trunk": snapshot.trunks[number.trunk_id].name if number.trunk_id in snapshot.trunks else number.trunk_id,
            "outbound_shareable": number.outbound_shareable,
            "inbound_agent": _agent_doc(snapshot, number.inbound_agent_version_id),
            "outbound_agent": _agent_doc(snapshot, number.outbound_agent_version_id),
        }
        for number in snapshot.numbers.values()
    ]
    document: dict[str, Any] = {
        "version": 1,
        **({"organization": organization} if organization is not None else {}),
        "trunks": {"prune": False, "items": trunks},
        "numbers": {"prune": False, "items": numbers},
    }
    routing = snapshot.routing
    document["routing"] = (
        None
        if routing is None
        else {
            key: value
            for key, value in {
                "enabled": routing.enabled,
                "workflow_id": routing.workflow_id,
                "workflow_version": routing.workflow_version,
                "workflow_definition": routing.workflow_definition,
                "fallback_agent": _agent_name(snapshot, routing.fallback_agent_id),
            }.items()
            if value is not None or key == "fallback_agent"
        }
    )
    return document


def _trunk_doc(trunk: Trunk) -> dict[str, Any]:
    if trunk.managed_account_id:
        return {"name": trunk.name, "managed": True}
    return {
        "name": trunk.name,
        "inbound": _config_doc(trunk.inbound_config),
        "outbound": _config_doc(trunk.outbound_config),
    }


def _config_doc(config: InboundConfig | OutboundConfig | None) -> dict[str, Any] | None:
    if config is None:
        return None
    fields = type(config).model_fields
    data = config.model_dump(mode="json", include=set(fields) - {"auth_password", "auth_password_set"})
    return {key: value for key, value in data.items() if value is not None}


def _agent_doc(snapshot: Snapshot, version_id: str | None) -> dict[str, Any] | str | None:
    ref = snapshot.directory.resolve(version_id)
    if version_id is None:
        return None
    if ref is None:
        return version_id  # unknown to the directory: planning it will say so
    return {"agent": _agent_name(snapshot, ref.agent_id), "version": ref.version}


def _agent_name(snapshot: Snapshot, agent_id: str | None) -> str | None:
    """The agent's name where it is unique, else its id."""
    if agent_id is None:
        return None
    agent = snapshot.directory.agent(agent_id)
    if agent is None:
        return agent_id
    same = [other for other in snapshot.directory.agents if other.name.casefold() == agent.name.casefold()]
    return agent.name if len(same) == 1 and snapshot.directory.agent(agent.name) is None else agent_id
