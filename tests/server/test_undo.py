"""Undo through the real MCP client and the real sandbox: every applied change gets an undo id, and plan_changes
plans its inverse, previewed and confirmed like any plan."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient, InboundConfig, OutboundConfig, Trunk
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ServerFactory, call, connect, sandbox_api
from tests.server.test_change_sets import confirmed, data, directory, error

IN_SECRET = "in-secret-Kq82"  # a test password, which must never come back
OUT_SECRET = "out-secret-Zt19"


def undo(undo_id: str, **fields: Any) -> dict[str, Any]:
    return {"operations": [{"op": "undo", "undo_id": undo_id, **fields}]}


async def applied(client: Client, plan: dict[str, Any]) -> dict[str, Any]:
    arguments = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
    return data(await call(client, "apply_changes", arguments))


async def carrier_trunk(api: AnyreachClient) -> Trunk:
    return await api.trunks.create(
        name="Carrier PBX",
        inbound_config=InboundConfig(
            allowed_addresses=["203.0.113.0/24"], auth_username="pbx-in", auth_password=SecretStr(IN_SECRET)
        ),
        outbound_config=OutboundConfig(
            address="sip.carrier.example.com:5061",
            auth_username="pbx-out",
            auth_password=SecretStr(OUT_SECRET),
            transport="TCP",
        ),
    )


def stored_password(sandbox: Sandbox, trunk_id: str, side: str) -> str | None:
    record = sandbox.store.trunks.get(sandbox.seed.demo.org_id, trunk_id)
    config = getattr(record, f"{side}_config")
    return None if config is None or config.auth_password is None else config.auth_password.get_secret_value()


async def test_a_move_is_undone_by_its_undo_id_and_the_numbers_are_back_on_their_trunk_with_their_agents(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    old = sandbox.seed.demo.byoc_trunk_id
    before = {n.phone_number: n async for n in api.phone_numbers.iter(trunk_id=old)}
    new = await api.trunks.create(name="New carrier")

    async with connect(make_server(), era) as client:
        moved = await confirmed(client, "move_phone_numbers", {"to_trunk_id": new.id, "from_trunk_id": old})
        plan = data(await call(client, "plan_changes", undo(moved["undo_id"])))
        undone = await applied(client, plan)
        again = data(await call(client, "plan_changes", undo(undone["result"]["undo_id"])))

    assert moved["undo_id"].startswith("und_")
    assert moved["undo_id"] in moved["message"]
    assert "kept only while this process runs" in moved["message"]
    assert f"Undoes move_phone_numbers ({moved['undo_id']})." in plan["notes"]
    assert undone["status"] == "done", undone["message"]
    after = await directory(api)
    for phone, number in before.items():
        assert after[phone].trunk_id == old
        assert after[phone].inbound_agent_version_id == number.inbound_agent_version_id
        assert after[phone].outbound_agent_version_id == number.outbound_agent_version_id
        assert after[phone].outbound_shareable == number.outbound_shareable
    # The undo is a change like any other: it has its own undo id, whose plan moves the numbers again.
    assert undone["undo_id"] == undone["result"]["undo_id"] != moved["undo_id"]
    assert again["plan_id"] is not None
    assert again["summary"].endswith(f"move {len(before)} numbers."), again["summary"]


async def test_a_trunk_update_is_undone_with_the_password_named_never_stored_and_kept_as_it_was(
    make_server: ServerFactory,
    api: AnyreachClient,
    sandbox: Sandbox,
    era: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    trunk = await carrier_trunk(api)
    change = {
        "trunk_id": trunk.id,
        "outbound": {"transport": "TLS"},
        "inbound": {"allowed_addresses": ["198.51.100.7/32"]},
        "inbound_password": IN_SECRET,
        "outbound_password": OUT_SECRET,
    }
    monkeypatch.setenv("ANYREACH_SIP_CARRIER_IN", IN_SECRET)
    monkeypatch.setenv("ANYREACH_SIP_CARRIER_OUT", OUT_SECRET)
    passwords = {"Carrier PBX": {"inbound": "ANYREACH_SIP_CARRIER_IN", "outbound": "ANYREACH_SIP_CARRIER_OUT"}}

    store = tmp_path / "state.db"
    async with connect(make_server(token_store=store, audit_log=tmp_path / "audit.jsonl"), era) as client:
        updated = await confirmed(client, "update_trunk", change)
        unable = error(await call(client, "plan_changes", undo(updated["undo_id"])))
        plan = data(await call(client, "plan_changes", undo(updated["undo_id"], passwords=passwords)))
        undone = await applied(client, plan)

    assert updated["status"] == "done"
    assert updated["undo_id"].startswith("und_")
    # Without the passwords, nothing is planned, and the plan says why and how to give them.
    assert "Nothing to undo now, so nothing was planned: NOT UNDONE: trunk 'Carrier PBX'" in unable
    note = unable
    assert "inbound and outbound SIP password was never stored" in note
    assert '"passwords": {"Carrier PBX": {"inbound": "ANYREACH_SIP_CARRIER"' in note
    assert "update_trunk, giving inbound_password and outbound_password" in note
    assert undone["status"] == "done", undone["message"]
    restored = await api.trunks.get(trunk.id)
    assert restored.outbound_config is not None
    assert restored.outbound_config.transport == "TCP"
    assert restored.inbound_config is not None
    assert restored.inbound_config.allowed_addresses == ["203.0.113.0/24"]
    assert stored_password(sandbox, trunk.id, "inbound") == IN_SECRET
    assert stored_password(sandbox, trunk.id, "outbound") == OUT_SECRET
    # Never in a result, the undo record (the token store's file), a log or the audit log.
    kept = store.read_bytes().decode(errors="replace") + (tmp_path / "audit.jsonl").read_text()
    everything = json.dumps([updated, unable, plan, undone]) + kept + caplog.text
    assert '"auth_username":"pbx-out"' in kept, "the record is in the file, its password never"
    assert IN_SECRET not in everything
    assert OUT_SECRET not in everything


async def test_a_routing_change_is_undone_and_the_config_is_back(
    make_server: ServerFactory, api: AnyreachClient, era: str, tmp_path: Path
) -> None:
    await api.inbound_routing.create(workflow_id="wf_front_desk", workflow_version=2)
    log = tmp_path / "audit.jsonl"

    async with connect(make_server(audit_log=log), era) as client:
        change = {"workflow_id": "wf_night", "enabled": False}
        changed = await confirmed(client, "update_inbound_routing_config", change)
        plan = data(await call(client, "plan_changes", undo(changed["undo_id"])))
        undone = await applied(client, plan)

    assert undone["status"] == "done", undone["message"]
    routing = await api.inbound_routing.get()
    assert routing is not None
    assert (routing.workflow_id, routing.workflow_version, routing.enabled) == ("wf_front_desk", 2, True)
    # The audit line that recorded each change names its undo id: the change's own, and the undo's.
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    done = {(line["tool"], line.get("undo_id")) for line in lines if line["outcome"] == "done"}
    assert ("update_inbound_routing_config", changed["undo_id"]) in done
    assert ("apply_changes", undone["undo_id"]) in done
    assert ("update_inbound_routing_config", None) in done, "a step of the undo carries the plan_id, not an undo id"


async def test_an_undo_refuses_a_target_changed_since_naming_it_and_what_changed_and_overwrites_nothing(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    kept, gone = "+12125550132", "+13125550143"
    async with connect(make_server(), era) as client:
        shared = await applied(client, await planned(client, [kept, gone], shareable=True))
        await api.phone_numbers.delete(gone)  # someone changes one of them meanwhile
        plan = data(await call(client, "plan_changes", undo(shared["result"]["undo_id"])))
        undone = await applied(client, plan)

    assert f"REFUSED: {gone} changed since that change (it was deleted); undoing it would overwrite that" in " ".join(
        plan["notes"]
    )
    assert [step["detail"] for step in plan["steps"]] == [f"forbid outbound sharing of {kept}"]
    assert undone["status"] == "done", undone["message"]
    now = await directory(api)
    assert now[kept].outbound_shareable is False
    assert gone not in now, "a target changed since is left as it is now"


async def planned(client: Client, phones: list[str], *, shareable: bool) -> dict[str, Any]:
    operation = {"op": "set_shareable", "phone_numbers": phones, "outbound_shareable": shareable}
    return data(await call(client, "plan_changes", {"operations": [operation]}))


async def test_an_unknown_undo_id_says_so_and_what_to_do(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(), era) as client:
        result = await call(client, "plan_changes", undo("und_nothing_was_recorded_here"))

    text = error(result)
    assert "There is no undo record und_nothing_was_recorded_here" in text
    assert "plan the reverse with plan_changes" in text


async def test_an_undo_planned_with_other_operations_is_refused(make_server: ServerFactory) -> None:
    operations = [{"op": "undo", "undo_id": "und_a_record_id"}, {"op": "delete_numbers", "unused": True}]
    async with connect(make_server(), "auto") as client:
        result = await call(client, "plan_changes", {"operations": operations})

    assert "Plan an undo alone" in error(result)


async def test_records_in_the_token_store_last_seven_days_and_say_so(
    make_server: ServerFactory, api: AnyreachClient, tmp_path: Path
) -> None:
    now = [1_000_000.0]
    server = make_server(token_store=tmp_path / "state.db", clock=lambda: now[0])
    async with connect(server, "auto") as client:
        routing = await confirmed(client, "create_inbound_routing_config", {"workflow_id": "wf_front_desk"})
        now[0] += 7 * 24 * 3600 - 1
        kept = data(await call(client, "plan_changes", undo(routing["undo_id"])))
        now[0] += 2
        gone = await call(client, "plan_changes", undo(routing["undo_id"]))

    assert "kept 7 days" in routing["message"]
    assert kept["plan_id"] is not None
    assert "There is no undo record" in error(gone)


async def test_an_undo_record_of_one_organization_is_never_found_from_another_sharing_the_store(
    make_server: ServerFactory, sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    store = tmp_path / "state.db"
    async with sandbox_api(sandbox, sandbox.seed.other.api_key) as other_api:
        ours, theirs = make_server(token_store=store), make_server(token_store=store, client=other_api)
        async with connect(ours, era) as client:
            made = await confirmed(client, "create_inbound_routing_config", {"workflow_id": "wf_front_desk"})
        async with connect(theirs, era) as client:
            elsewhere = await call(client, "plan_changes", undo(made["undo_id"]))
        async with connect(make_server(token_store=store), era) as client:  # another replica of ours
            here = data(await call(client, "plan_changes", undo(made["undo_id"])))

    assert "There is no undo record" in error(elsewhere)
    assert here["steps"][0]["action"] == "delete_routing"


async def test_a_released_purchased_number_is_named_as_what_no_undo_can_bring_back(
    make_server: ServerFactory, era: str
) -> None:
    bought = "+14155550101"  # on the seed's managed trunk
    async with connect(make_server(), era) as client:
        released = await confirmed(client, "delete_phone_number", {"phone_number": bought})
        result = await call(client, "plan_changes", undo(released["undo_id"]))

    assert released["status"] == "done"
    assert f"NOT UNDONE: {bought} was bought through Anyreach and is released: no undo can buy it back" in error(result)


async def test_an_agent_assignment_is_undone_slot_by_slot(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    answered, empty = "+12125550132", "+13125550143"  # the seed's 'After-hours' v1 on both slots, and nobody
    before = await directory(api)
    assign = {"agent_id": sandbox.seed.demo.agent_ids[2], "version": 1, "phone_numbers": [answered, empty]}
    async with connect(make_server(), era) as client:
        assigned = await confirmed(client, "assign_agent_to_numbers", assign)
        undone = await applied(client, data(await call(client, "plan_changes", undo(assigned["undo_id"]))))

    assert undone["status"] == "done", undone["message"]
    after = await directory(api)
    for phone in (answered, empty):
        assert after[phone].inbound_agent_version_id == before[phone].inbound_agent_version_id
        assert after[phone].outbound_agent_version_id == before[phone].outbound_agent_version_id


async def test_a_created_trunk_is_deleted_by_its_undo_and_a_deleted_one_created_again_with_the_passwords_given(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    trunk = await carrier_trunk(api)
    monkeypatch.setenv("ANYREACH_SIP_IN", IN_SECRET)
    monkeypatch.setenv("ANYREACH_SIP_OUT", OUT_SECRET)
    passwords = {"Carrier PBX": {"inbound": "ANYREACH_SIP_IN", "outbound": "ANYREACH_SIP_OUT"}}
    async with connect(make_server(), era) as client:
        created = await confirmed(client, "create_trunk", {"name": "Spare PBX"})
        deleted = await confirmed(client, "delete_trunk", {"trunk_id": trunk.id})
        undo_create = data(await call(client, "plan_changes", undo(created["undo_id"])))
        await applied(client, undo_create)
        undo_delete = data(await call(client, "plan_changes", undo(deleted["undo_id"], passwords=passwords)))
        await applied(client, undo_delete)

    trunks = {t.name: t async for t in api.trunks.iter()}
    assert [step["action"] for step in undo_create["steps"]] == ["delete_trunk"]
    assert "Spare PBX" not in trunks
    again = trunks["Carrier PBX"]
    assert again.id != trunk.id, "a deleted trunk comes back as a new trunk"
    assert again.inbound_config == trunk.inbound_config
    assert again.outbound_config == trunk.outbound_config
    assert stored_password(sandbox, again.id, "outbound") == OUT_SECRET
