from __future__ import annotations

from pathlib import Path

import pytest

from mcp_anyreach.sandbox import SandboxStore, default_db_path, open_sandbox
from mcp_anyreach.sandbox.store import ListFilter


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
        assert len(org.agent_ids) == 3
        assert sandbox.store.routing.get(org.org_id) is None
    assert sandbox.seed.demo.name == "Demo Telephony Co"
    assert sandbox.seed.demo.api_key != sandbox.seed.other.api_key


def test_seeding_a_stored_database_again_returns_the_same_seed(tmp_path: Path) -> None:
    first = SandboxStore(tmp_path / "sandbox.db")
    seed = first.seed_demo()
    first.close()
    again = SandboxStore(tmp_path / "sandbox.db")
    assert again.seed_demo() == seed
    assert len(again.phone_numbers.list(seed.demo.org_id, ListFilter()).items) == 5


def test_the_default_database_lives_under_the_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = default_db_path()
    assert path == tmp_path / "mcp-anyreach" / "sandbox.db"
    assert path.parent.is_dir()
