from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import httpx2
import pytest

from mcp_anyreach.sandbox import SandboxStore, open_sandbox
from mcp_anyreach.sandbox.seed import load_or_create_seed
from mcp_anyreach.sandbox.store import ListFilter
from mcp_anyreach.settings import default_sandbox_db


def test_the_seed_gives_each_org_managed_and_byoc_trunks_numbers_and_agents() -> None:
    sandbox = open_sandbox()
    for org in (sandbox.seed.demo, sandbox.seed.other):
        numbers = sandbox.store.phone_numbers.list(org.org_id, ListFilter(limit=100)).items
        trunks = sandbox.store.trunks.list(org.org_id, ListFilter(limit=100)).items
        assert len(numbers) >= 5
        assert {number.trunk_id for number in numbers} == {org.byoc_trunk_id, *org.managed_trunk_ids}
        assert sum(number.inbound_agent_version_id is not None for number in numbers) >= 2
        assert any(number.outbound_shareable for number in numbers)
        assert [trunk.managed_account_id for trunk in trunks if trunk.id in org.managed_trunk_ids] == [
            org.managed_account_id
        ]
        byoc = sandbox.store.trunks.get(org.org_id, org.byoc_trunk_id)
        assert byoc.inbound_config is not None
        assert byoc.outbound_config is not None
        assert byoc.outbound_config.auth_password is not None
        assert len(org.agent_ids) == 5
        assert sandbox.store.routing.get(org.org_id) is None
    assert sandbox.seed.demo.name == "Demo Telephony Co"
    assert sandbox.seed.demo.api_key != sandbox.seed.other.api_key


def test_seeded_agents_have_versions_both_published_and_draft_and_some_are_inactive() -> None:
    sandbox = open_sandbox()
    for org in (sandbox.seed.demo, sandbox.seed.other):
        listed = sandbox.store.agents.list(org.org_id, ListFilter()).items
        assert [agent.id for agent in listed] == list(org.agent_ids)
        assert {"Support", "Sales", "After-hours"} <= {agent.name for agent in listed}
        assert [agent.name for agent in listed if not agent.active] == ["Legacy IVR"]
        assert [agent.name for agent in listed if agent.is_demo] == ["Demo receptionist"]
        flags: set[bool] = set()
        for agent_id in org.agent_ids:
            versions = sandbox.store.agents.get(org.org_id, agent_id).versions
            assert [version.version for version in versions] == [1, 2, 3]
            flags |= {version.published for version in versions}
        assert flags == {True, False}


def test_every_seeded_slot_points_at_a_published_version_of_an_agent_of_the_same_org() -> None:
    sandbox = open_sandbox()
    for org in (sandbox.seed.demo, sandbox.seed.other):
        published = {
            version.id
            for agent_id in org.agent_ids
            for version in sandbox.store.agents.get(org.org_id, agent_id).versions
            if version.published
        }
        numbers = sandbox.store.phone_numbers.list(org.org_id, ListFilter(limit=100)).items
        slots = [n.inbound_agent_version_id for n in numbers] + [n.outbound_agent_version_id for n in numbers]
        assigned = {slot for slot in slots if slot is not None}
        assert len(assigned) == 2
        assert assigned <= published


def test_seeding_a_stored_database_again_returns_the_same_seed(tmp_path: Path) -> None:
    first = SandboxStore(tmp_path / "sandbox.db")
    seed = load_or_create_seed(first)
    first.close()
    again = SandboxStore(tmp_path / "sandbox.db")
    assert load_or_create_seed(again) == seed
    assert len(again.phone_numbers.list(seed.demo.org_id, ListFilter()).items) == 5


def test_the_default_database_lives_under_the_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = default_sandbox_db()
    assert path == tmp_path / "mcp-anyreach" / "sandbox.db"
    assert path.parent.is_dir()


# The agent tables as the first release wrote them, with the tables their rows refer to.
FIRST_LAYOUT = """
CREATE TABLE organizations (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE trunks (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL, managed_account_id TEXT REFERENCES managed_accounts(id),
    inbound_config TEXT, outbound_config TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE phone_numbers (
    seq INTEGER PRIMARY KEY, phone_number TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id), trunk_id TEXT NOT NULL REFERENCES trunks(id),
    inbound_agent_version_id TEXT, outbound_agent_version_id TEXT, outbound_shareable INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE agents (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE agent_versions (
    id TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id), version INTEGER NOT NULL,
    created_at TEXT NOT NULL, UNIQUE (agent_id, version)
);
INSERT INTO organizations VALUES ('org_1', 'Old Co', '2026-01-01T00:00:00.000000Z');
INSERT INTO trunks (id, org_id, name, created_at, updated_at)
    VALUES ('t1', 'org_1', 'PBX', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');
INSERT INTO agents VALUES ('agt_b', 'org_1', 'Front Desk', '2026-01-01T00:00:00.000000Z');
INSERT INTO agents VALUES ('agt_a', 'org_1', 'After-Hours Support', '2026-01-01T00:00:00.000000Z');
INSERT INTO agent_versions VALUES ('agv_b1', 'agt_b', 1, '2026-01-01T00:00:00.000000Z');
INSERT INTO agent_versions VALUES ('agv_b2', 'agt_b', 2, '2026-01-01T00:00:00.000000Z');
INSERT INTO agent_versions VALUES ('agv_a1', 'agt_a', 1, '2026-01-01T00:00:00.000000Z');
INSERT INTO phone_numbers (phone_number, org_id, trunk_id, outbound_agent_version_id, outbound_shareable,
    created_at, updated_at) VALUES ('+16465550100', 'org_1', 't1', 'agv_b2', 0,
    '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');
"""


def test_a_sandbox_file_of_the_first_layout_keeps_its_agents_and_assignments(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    with contextlib.closing(sqlite3.connect(path)) as old:
        old.executescript(FIRST_LAYOUT)
    store = SandboxStore(path)
    listed = store.agents.list("org_1", ListFilter()).items
    assert [(agent.id, agent.name, agent.active) for agent in listed] == [
        ("agt_b", "Front Desk", True),
        ("agt_a", "After-Hours Support", True),
    ]
    front_desk = store.agents.get("org_1", "agt_b")
    assert [(version.id, version.published) for version in front_desk.versions] == [
        ("agv_b1", False),
        ("agv_b2", True),
    ]
    assert [number.phone_number for number in front_desk.phone_numbers] == ["+16465550100"]
    store.agents.publish("org_1", "agt_a", 1, ["+16465550100"], [], "inbound")
    store.close()
    reopened = SandboxStore(path)
    assert [version.published for version in reopened.agents.get("org_1", "agt_a").versions] == [True]
    assert load_or_create_seed(reopened).demo.agent_ids


async def test_a_sandbox_file_seeded_before_users_existed_gains_the_demo_user_and_keeps_its_tokens(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sandbox.db"
    first = open_sandbox(path)
    first.store.close()
    with contextlib.closing(sqlite3.connect(path)) as old, old:
        old.execute("DELETE FROM meta WHERE key = 'demo_user'")
        old.executescript("DROP TABLE personal_tokens; DROP TABLE memberships; DROP TABLE users;")
    reopened = open_sandbox(path)
    seed = reopened.seed
    assert (seed.demo, seed.other) == (first.seed.demo, first.seed.other)
    assert seed.user.organization_ids == (seed.demo.org_id, seed.other.org_id)
    transport = httpx2.ASGITransport(app=reopened.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        for org in (seed.demo, seed.other):
            by_user = await http.get("/core/phone-numbers", headers=as_member(seed.user.pat, org.org_id))
            by_its_own_pat = await http.get("/core/phone-numbers", headers=as_member(org.pat, org.org_id))
            assert by_user.status_code == by_its_own_pat.status_code == 200
            assert by_user.json() == by_its_own_pat.json()
        crossing = await http.get("/core/phone-numbers", headers=as_member(seed.demo.pat, seed.other.org_id))
        assert crossing.status_code == 403
    reopened.store.close()
    assert open_sandbox(path).seed == seed


def as_member(token: str, org_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Anyreach-Org": org_id}
