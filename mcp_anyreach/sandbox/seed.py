"""The demo data: two organizations with credentials, trunks, numbers and agents, and a user who belongs to both,
created once."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr, TypeAdapter

from mcp_anyreach.sandbox.schemas import InboundConfig, OutboundConfig, TrunkCreate
from mcp_anyreach.sandbox.store import phone_numbers, trunks
from mcp_anyreach.sandbox.store.db import new_uuid
from mcp_anyreach.sandbox.store.orgs import ALL_SCOPES, READ_SCOPES

if TYPE_CHECKING:
    from mcp_anyreach.sandbox.store import SandboxStore

_SEED_KEY = "demo_seed"
_USER_KEY = "demo_user"


@dataclass(frozen=True)
class DemoOrg:
    org_id: str
    name: str
    api_key: str
    pat: str
    read_only_key: str
    managed_account_id: str
    managed_trunk_ids: tuple[str, ...]
    byoc_trunk_id: str
    agent_ids: tuple[str, ...]


@dataclass(frozen=True)
class DemoUser:
    """A person in both demo organizations: one pat_ acts in either, chosen per request by X-Anyreach-Org."""

    name: str
    pat: str
    organization_ids: tuple[str, ...]


@dataclass(frozen=True)
class DemoSeed:
    demo: DemoOrg
    other: DemoOrg
    user: DemoUser


@dataclass(frozen=True)
class _SeededOrgs:
    demo: DemoOrg
    other: DemoOrg


@dataclass(frozen=True)
class _OrgPlan:
    name: str
    managed_numbers: tuple[str, str]
    byoc_numbers: tuple[str, str, str]
    sip_host: str


_DEMO = _OrgPlan(
    "Demo Telephony Co",
    ("+14155550101", "+14155550102"),
    ("+12125550131", "+12125550132", "+13125550143"),
    "pbx.demo-telephony.example.com:5061",
)
_OTHER = _OrgPlan(
    "Other Org",
    ("+16175550111", "+16175550112"),
    ("+12065550121", "+12065550122", "+13035550133"),
    "sip.other-org.example.net",
)


@dataclass(frozen=True)
class _AgentPlan:
    """Every seeded agent has versions 1-3, so tests may publish any of them on any seeded agent."""

    name: str
    description: str
    published: tuple[int, ...]
    metadata: dict[str, str]
    active: bool = True
    is_demo: bool = False


_AGENTS = (
    _AgentPlan("Support", "Answers customer support calls", (1, 2), {"team": "support"}),
    _AgentPlan("After-hours", "Takes messages outside business hours", (1,), {"team": "support", "shift": "night"}),
    _AgentPlan("Sales", "Qualifies inbound leads and books demos", (1, 2), {"team": "sales"}),
    _AgentPlan("Legacy IVR", "The old phone menu, switched off", (1, 2, 3), {"team": "support"}, active=False),
    _AgentPlan("Demo receptionist", "A template to try agents with", (), {}, is_demo=True),
)

# Stored apart, as the organizations were seeded before users existed and their stored form stays as it was.
_ORGS_JSON = TypeAdapter(_SeededOrgs)
_USER_JSON = TypeAdapter(DemoUser)


def load_or_create_seed(store: SandboxStore) -> DemoSeed:
    stored = store.db.meta(_SEED_KEY)
    if stored is not None:
        orgs = _ORGS_JSON.validate_json(stored)
    else:
        with store.db.transaction():
            orgs = _SeededOrgs(demo=_seed_org(store, _DEMO), other=_seed_org(store, _OTHER))
            store.db.set_meta(_SEED_KEY, _ORGS_JSON.dump_json(orgs).decode())
    return DemoSeed(demo=orgs.demo, other=orgs.other, user=_load_or_create_user(store, orgs))


def _load_or_create_user(store: SandboxStore, orgs: _SeededOrgs) -> DemoUser:
    """A database seeded before users existed gains the demo user the first time it is opened again."""
    stored = store.db.meta(_USER_KEY)
    if stored is None:
        with store.db.transaction():
            stored = store.db.meta(_USER_KEY)  # another process may have added the user while we waited
            if stored is None:
                user = _seed_user(store, (orgs.demo.org_id, orgs.other.org_id))
                store.db.set_meta(_USER_KEY, _USER_JSON.dump_json(user).decode())
                return user
    return _USER_JSON.validate_json(stored)


def _seed_user(store: SandboxStore, org_ids: tuple[str, ...]) -> DemoUser:
    name = "Demo user"
    user_id = store.users.create(name)
    for org_id in org_ids:
        store.users.join(user_id, org_id)
    pat = _token("pat")
    store.users.add_token(user_id, pat, ALL_SCOPES)
    return DemoUser(name=name, pat=pat, organization_ids=org_ids)


def _token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(24)}"


def _seed_org(store: SandboxStore, plan: _OrgPlan) -> DemoOrg:
    orgs = store.organizations
    org_id = orgs.create(plan.name)
    api_key, pat, read_only_key = _token("ak"), _token("pat"), _token("ak")
    orgs.add_credential(org_id, api_key, ALL_SCOPES)
    orgs.add_credential(org_id, pat, ALL_SCOPES)
    orgs.add_credential(org_id, read_only_key, READ_SCOPES)
    account_id = orgs.add_managed_account(org_id, "Anyreach managed (Twilio)")
    managed_trunk_id = _managed_trunk(store, org_id, account_id, plan.managed_numbers)
    byoc_trunk = store.trunks.create(org_id, _byoc_trunk(plan))
    for index, number in enumerate(plan.byoc_numbers):
        store.phone_numbers.add(org_id, number, byoc_trunk.id, index == 0, number_limit=sys.maxsize)
    agent_ids = tuple(_agent(store, org_id, agent) for agent in _AGENTS)
    store.agents.publish(org_id, agent_ids[0], 2, [plan.managed_numbers[0]], [], "inbound")
    store.agents.publish(org_id, agent_ids[1], 1, [plan.byoc_numbers[1]], [], "both")
    return DemoOrg(
        org_id=org_id,
        name=plan.name,
        api_key=api_key,
        pat=pat,
        read_only_key=read_only_key,
        managed_account_id=account_id,
        managed_trunk_ids=(managed_trunk_id,),
        byoc_trunk_id=byoc_trunk.id,
        agent_ids=agent_ids,
    )


def _agent(store: SandboxStore, org_id: str, plan: _AgentPlan) -> str:
    return store.agents.create(
        org_id,
        plan.name,
        versions=3,
        published=plan.published,
        description=plan.description,
        active=plan.active,
        is_demo=plan.is_demo,
        metadata=plan.metadata,
    )


def _managed_trunk(store: SandboxStore, org_id: str, account_id: str, numbers: tuple[str, ...]) -> str:
    trunk_id = new_uuid()
    now = store.db.now()
    with store.db.transaction() as tx:
        trunks.insert(tx, trunk_id, org_id, "Anyreach managed numbers", account_id, now)
        for number in numbers:
            phone_numbers.insert(tx, number, org_id, trunk_id, False, now)
    return trunk_id


def _byoc_trunk(plan: _OrgPlan) -> TrunkCreate:
    username = plan.name.lower().replace(" ", "-")
    return TrunkCreate(
        name=f"{plan.name} PBX (BYOC)",
        inbound_config=InboundConfig(
            enable_noise_cancellation=True,
            media_encryption="ALLOW",
            allowed_addresses=["203.0.113.10/32", "198.51.100.0/24"],
            auth_username=f"{username}-in",
            auth_password=SecretStr(secrets.token_urlsafe(16)),
        ),
        outbound_config=OutboundConfig(
            address=plan.sip_host,
            auth_username=f"{username}-out",
            auth_password=SecretStr(secrets.token_urlsafe(16)),
            transport="TLS",
            media_encryption="REQUIRE",
            headers={"X-Customer-Id": username},
        ),
    )
