"""Change sets through the real MCP client and the real sandbox: one preview, one confirmation, many changes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp_types import ResourceUpdatedNotification, TextContent, TextResourceContents

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.desired import export_document
from mcp_anyreach.changes.snapshot import read_snapshot
from mcp_anyreach.sandbox import Faults, Sandbox, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from tests.server.conftest import (
    ACCEPT,
    ServerFactory,
    answering,
    call,
    connect,
    questions,
    refusing_deletes_of,
    sandbox_api,
)

# The fault falls on step 4 (registering +12125550132 after its delete): the apply preview reads 3 numbers and
# the trunk list first, then steps 1-3 pass.
FAULT_SEED = 17
UNUSED = {"+14155550102", "+13125550143"}  # no agent on either slot in the seed, not shareable


def data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    assert result.structured_content is not None
    return result.structured_content


def error(result: Any) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def confirmed(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The token flow: preview, then the same call with the token."""
    preview = data(await call(client, tool, arguments))
    assert preview["status"] == "confirmation_required", preview
    return data(await call(client, tool, {**arguments, "confirmation_token": preview["confirmation_token"]}))


async def directory(api: AnyreachClient) -> dict[str, Any]:
    return {n.phone_number: n async for n in api.phone_numbers.iter()}


async def test_a_plan_changes_nothing_and_one_confirmation_applies_every_step(
    make_server: ServerFactory, api: AnyreachClient, era: str, tmp_path: Path
) -> None:
    log = tmp_path / "audit.jsonl"
    async with connect(make_server(audit_log=log), era) as client:
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        untouched = await directory(api)
        done = await confirmed(client, "apply_changes", {"plan_id": plan["plan_id"]})

    assert set(untouched) >= UNUSED
    assert plan["summary"].startswith("2 steps")
    assert done["status"] == "done"
    assert done["result"]["complete"] is True
    assert (done["result"]["done"], done["result"]["failed"]) == (2, 0)
    assert not UNUSED & set(await directory(api))
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    steps = [line for line in lines if line["tool"] == "delete_phone_number"]
    assert {line["arguments"]["phone_number"] for line in steps if line["outcome"] == "done"} == UNUSED
    assert all(line["arguments"]["plan_id"] == plan["plan_id"] for line in steps)
    assert [line["outcome"] for line in lines if line["tool"] == "apply_changes"][-1] == "done"


async def test_deleting_unused_numbers_keeps_a_shareable_number_and_says_why(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    shareable = "+12125550131"  # no agent on either slot, but any agent may call out from it
    async with connect(make_server(), era) as client:
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        arguments = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
        done = data(await call(client, "apply_changes", arguments))

    assert done["status"] == "done"
    assert shareable in await directory(api), "a shareable number is in use"
    assert not any(shareable in json.dumps(step) for step in plan["steps"])
    assert any(shareable in note and "shareable" in note for note in plan["notes"]), plan["notes"]


async def test_a_client_that_cannot_ask_gets_the_plans_token_with_the_plan_and_applies_in_one_call(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    async with connect(make_server(), era) as client:
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        arguments = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
        done = data(await call(client, "apply_changes", arguments))
        repeated = data(await call(client, "apply_changes", arguments))

    assert "only if they agree" in plan["next"]
    assert done["status"] == "done"
    assert not UNUSED & set(await directory(api))
    # The same call again (a client that lost the answer) gets the plan's report, not "no plan"; nothing runs twice.
    assert repeated["repeat"] is True
    assert repeated["result"] == done["result"]


async def test_a_plan_applied_with_its_token_answers_with_its_headline_not_every_step_again(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        arguments = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
        done = data(await call(client, "apply_changes", arguments))

    headline = f"Done: {plan['summary']}\n{done['result']['undo']}"  # and how to undo it
    assert done["message"] == headline, "the model saw every step with the token already"


async def test_a_client_that_can_ask_is_asked_once_for_the_whole_plan(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    ask = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=ask) as client:
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        done = data(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))

    assert plan.get("confirmation_token") is None
    assert done["status"] == "done"
    assert len(questions(ask)) == 1
    assert "2 steps" in questions(ask)[0]
    assert not UNUSED & set(await directory(api))


async def test_a_change_set_tells_clients_once_about_every_number_it_changed(make_server: ServerFactory) -> None:
    updated: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updated.append(str(message.params.uri))

    async with connect(make_server(no_confirm=True), "legacy", message_handler=on_message) as client:
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        assert updated == [], "planning changes nothing"
        data(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))

    assert {f"anyreach://phone-numbers/{number}" for number in UNUSED} <= set(updated)
    assert updated.count("anyreach://inventory") == 1
    assert updated.count("anyreach://phone-numbers/+13125550143") == 1


async def test_declining_the_plan_changes_nothing(make_server: ServerFactory, api: AnyreachClient) -> None:
    async with connect(make_server(), "auto", elicitation_callback=answering("decline")) as client:
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        declined = data(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))

    assert declined["status"] == "declined"
    assert set(await directory(api)) >= UNUSED


async def test_a_plan_whose_numbers_changed_since_planning_is_refused_as_stale(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    async with connect(make_server(no_confirm=True), era) as client:
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        await api.phone_numbers.update("+13125550143", outbound_shareable=True)
        refused = error(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))

    assert "stale" in refused
    assert "+13125550143" in refused
    assert set(await directory(api)) >= UNUSED


async def test_a_plan_runs_once(make_server: ServerFactory) -> None:
    async with connect(make_server(no_confirm=True), "auto") as client:
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        first = data(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))
        again = error(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))

    assert first["status"] == "done"
    assert "plan_changes again" in again


async def test_an_unknown_plan_id_is_refused_with_the_next_step(make_server: ServerFactory) -> None:
    async with connect(make_server(), "auto") as client:
        refused = error(await call(client, "apply_changes", {"plan_id": "pln_nothing_like_this"}))

    assert "plan_changes again" in refused


async def test_invalid_operations_name_the_field_and_where_the_schema_is(make_server: ServerFactory) -> None:
    async with connect(make_server(), "auto") as client:
        refused = error(
            await call(
                client, "plan_changes", {"operations": [{"op": "move_numbers", "phone_numbers": ["+12125550131"]}]}
            )
        )
        both = error(await call(client, "plan_changes", {"operations": [], "desired_state": {}}))

    assert "to_trunk_id" in refused
    assert "anyreach://schema/operations" in refused
    assert "not both" in both


async def test_moving_numbers_keeps_sharing_and_both_agent_slots_and_says_so(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    old = sandbox.seed.demo.byoc_trunk_id
    before = {n.phone_number: n async for n in api.phone_numbers.iter(trunk_id=old)}
    new = await api.trunks.create(name="New carrier")

    async with connect(make_server(), era) as client:
        preview = data(await call(client, "move_phone_numbers", {"to_trunk_id": new.id, "from_trunk_id": old}))
        moved = await confirmed(client, "move_phone_numbers", {"to_trunk_id": new.id, "from_trunk_id": old})

    assert "Sharing and both agent slots are kept" in preview["message"]
    assert moved["status"] == "done"
    after = await directory(api)
    for phone, number in before.items():
        assert after[phone].trunk_id == new.id
        assert after[phone].inbound_agent_version_id == number.inbound_agent_version_id
        assert after[phone].outbound_agent_version_id == number.outbound_agent_version_id
        assert after[phone].outbound_shareable == number.outbound_shareable
    assert any(n.inbound_agent_version_id and n.outbound_agent_version_id for n in before.values())


async def test_moving_a_purchased_number_off_its_managed_trunk_is_refused_with_the_reason(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    async with connect(make_server(), "auto") as client:
        refused = error(
            await call(
                client,
                "move_phone_numbers",
                {"to_trunk_id": sandbox.seed.demo.byoc_trunk_id, "phone_numbers": ["+14155550101"]},
            )
        )

    assert "bought through Anyreach" in refused
    assert (await api.phone_numbers.get("+14155550101")).trunk_id == sandbox.seed.demo.managed_trunk_ids[0]


async def test_deleting_many_numbers_is_one_preview_and_one_confirmation(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    numbers = sorted(UNUSED)
    async with connect(make_server(), era) as client:
        done = await confirmed(client, "delete_phone_numbers", {"phone_numbers": numbers})

    assert done["status"] == "done"
    assert done["result"]["done"] == 2
    assert not UNUSED & set(await directory(api))


async def test_a_read_only_server_plans_but_cannot_apply(make_server: ServerFactory) -> None:
    async with connect(make_server(read_only=True), "auto") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))

    assert "plan_changes" in names
    assert not {"apply_changes", "move_phone_numbers", "delete_phone_numbers"} & names
    assert plan["summary"].startswith("2 steps")
    assert "cannot apply" in plan["next"]
    assert plan.get("confirmation_token") is None


async def test_the_document_and_operation_schemas_are_resources(make_server: ServerFactory) -> None:
    async with connect(make_server(read_only=True), "auto") as client:
        document = (await client.read_resource("anyreach://schema/desired-state")).contents[0]
        operations = (await client.read_resource("anyreach://schema/operations")).contents[0]

    assert isinstance(document, TextResourceContents)
    assert isinstance(operations, TextResourceContents)
    assert set(json.loads(document.text)["properties"]) == {"version", "trunks", "numbers", "routing"}
    assert "move_numbers" in operations.text
    unused = json.loads(operations.text)["$defs"]["DeleteNumbers"]["properties"]["unused"]["description"]
    assert "not shareable" in unused, "a model reading the schema expects what the plan keeps"


DESIRED = """
trunks:
  items:
    - name: Carrier B
      inbound:
        allowed_addresses: [203.0.113.77/32]
        auth_username: carrier-b
        auth_password: {env: ANYREACH_SIP_CARRIER_B}
      outbound:
        address: sip.carrier-b.example:5061
        auth_username: carrier-b-out
        auth_password: {env: ANYREACH_SIP_CARRIER_B}
numbers:
  items:
    - phone_number: "+12125550131"
      trunk: Carrier B
      inbound_agent: Sales
routing:
  workflow_id: wf_router
  fallback_agent: Support
"""


async def test_a_desired_state_document_is_planned_applied_and_then_matches(
    make_server: ServerFactory, api: AnyreachClient, era: str, monkeypatch: Any
) -> None:
    monkeypatch.setenv("ANYREACH_SIP_CARRIER_B", "s3cret-carrier-b")
    async with connect(make_server(no_confirm=True), era) as client:
        plan = data(await call(client, "plan_changes", {"desired_state": DESIRED}))
        done = data(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))
        again = data(await call(client, "plan_changes", {"desired_state": DESIRED}))

    assert [step["action"] for step in plan["steps"]] == [
        "create_trunk",
        "delete_number",
        "register_number",
        "publish",
        "create_routing",
    ]
    assert "s3cret" not in json.dumps(plan) + json.dumps(done)
    assert done["status"] == "done"
    assert again["summary"].startswith("Nothing to do")
    (trunk,) = [t async for t in api.trunks.iter() if t.name == "Carrier B"]
    assert trunk.inbound_config is not None
    assert trunk.inbound_config.password_set
    assert trunk.outbound_config is not None, "every side the document writes is created"
    assert trunk.outbound_config.address == "sip.carrier-b.example:5061"
    moved = await api.phone_numbers.get("+12125550131")
    assert moved.trunk_id == trunk.id
    assert moved.outbound_shareable is True, "a field the document leaves out keeps its value"


async def test_the_exported_account_with_routing_and_agents_by_name_plans_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    await api.inbound_routing.create(
        enabled=True, workflow_id="wf_router", fallback_agent_id=sandbox.seed.demo.agent_ids[1]
    )
    exported = export_document(await read_snapshot(api))

    async with connect(make_server(), era) as client:
        plan = data(await call(client, "plan_changes", {"desired_state": exported}))

    assert exported["routing"]["fallback_agent"] == "After-hours"
    assert plan["plan_id"] is None
    assert plan["summary"] == "Nothing to do: the account already matches."


async def test_a_change_set_never_buys_a_number(make_server: ServerFactory, api: AnyreachClient) -> None:
    wanted = {"numbers": {"items": [{"phone_number": "+14155550177", "trunk": "Anyreach managed numbers"}]}}
    async with connect(make_server(), "auto") as client:
        refused = error(await call(client, "plan_changes", {"desired_state": wanted}))

    assert "purchase_phone_number" in refused
    assert "+14155550177" not in await directory(api)


async def test_a_secret_the_environment_lacks_is_refused_before_anything_changes(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    async with connect(make_server(no_confirm=True), "auto") as client:
        plan = data(await call(client, "plan_changes", {"desired_state": DESIRED}))
        refused = error(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))

    assert "ANYREACH_SIP_CARRIER_B" in refused
    assert "nothing was changed" in refused
    assert "Carrier B" not in {trunk.name async for trunk in api.trunks.iter()}
    assert "+12125550131" in await directory(api)


async def test_an_apply_stopped_half_way_by_faults_reports_each_step_and_planning_again_converges(era: str) -> None:
    faults = Faults(error_rate=0.25, seed=FAULT_SEED, max_faults=1, enabled=False)
    sandbox = open_sandbox(":memory:", faults=faults)
    old = sandbox.seed.demo.byoc_trunk_id
    async with sandbox_api(sandbox, max_retries=0) as api:
        before = {n.phone_number: n async for n in api.phone_numbers.iter(trunk_id=old)}
        new = await api.trunks.create(name="New carrier")
        server = build_server(Settings.model_validate({"sandbox": True, "no_confirm": True}), api, sandbox=True)
        move = {"operations": [{"op": "move_numbers", "to_trunk_id": new.id, "from_trunk_id": old}]}
        async with connect(server, era) as client:
            plan = data(await call(client, "plan_changes", move))
            faults.enabled = True
            stopped = data(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))
            faults.enabled = False
            gone = "+12125550132" not in await directory(api)
            second = data(await call(client, "plan_changes", move))
            finished = data(await call(client, "apply_changes", {"plan_id": second["plan_id"]}))
            third = data(await call(client, "plan_changes", move))
        after = await directory(api)

    report = stopped["result"]
    assert stopped["status"] == "partial"
    assert (report["done"], report["failed"], report["not_started"]) == (3, 1, 3)
    statuses = [step["status"] for step in report["steps"]]
    assert statuses == sorted(statuses, key=["done", "failed", "not_started"].index)
    assert "could not be reached or failed" in report["failure"]["cause"]
    assert (report["failure"]["action"], report["failure"]["subject"]) == ("register_number", "+12125550132")
    assert gone, "stopped between the delete and the register of a moved number"
    assert counted_steps(second) < counted_steps(plan)
    assert finished["status"] == "done"
    assert third["summary"].startswith("Nothing to do")
    for phone, number in before.items():
        assert after[phone].trunk_id == new.id
        assert after[phone].inbound_agent_version_id == number.inbound_agent_version_id
        assert after[phone].outbound_agent_version_id == number.outbound_agent_version_id
        assert after[phone].outbound_shareable == number.outbound_shareable


def counted_steps(view: dict[str, Any]) -> int:
    """Every step of a plan view, counting an entry that stands for steps n to last as each of them."""
    return sum((entry.get("last") or entry["n"]) - entry["n"] + 1 for entry in view["steps"])


async def test_the_bulk_tools_and_the_plan_are_gone_when_their_toolsets_are_not_chosen(
    make_server: ServerFactory,
) -> None:
    async with connect(make_server(toolsets=["routing"]), "auto") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}

    assert "explain_inbound_call" in names
    assert not {"plan_changes", "apply_changes", "move_phone_numbers"} & names


async def test_plan_changes_names_every_operation_with_its_key_fields_in_its_description(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        published = (await client.read_resource("anyreach://schema/operations")).contents[0]
    assert isinstance(published, TextResourceContents)
    description = tools["plan_changes"].description or ""
    lines = {line.split(":")[0].strip(): line for line in description.splitlines() if ":" in line}

    for operation in json.loads(published.text)["$defs"].values():
        op = operation["properties"]["op"]["const"]
        assert op in lines, f"a model reading only the description does not know {op}"
        assert set(operation["required"]) - {"op"} <= set(lines[op].replace(",", " ").split()), lines[op]
    assert {"unused=true", "from_trunk_id"} <= set(lines["delete_numbers"].split())
    assert "one item, many numbers" in description, "so 62 numbers are one register_numbers item, not 62 calls"


async def test_a_number_both_changed_and_deleted_in_one_request_is_refused_naming_it(
    make_server: ServerFactory, era: str
) -> None:
    """Jobs on one number are merged; a change and a delete of the same number cannot both be meant."""
    number = "+12125550131"
    operations = [
        {"op": "set_shareable", "phone_numbers": [number], "outbound_shareable": True},
        {"op": "delete_numbers", "phone_numbers": [number]},
    ]
    async with connect(make_server(), era) as client:
        refused = error(await call(client, "plan_changes", {"operations": operations}))
    assert f"{number} is both deleted and changed by these operations; choose one." in refused


async def test_a_step_that_fails_unexpectedly_is_reported_by_the_kind_of_failure_never_its_text(
    make_server: ServerFactory, sandbox: Sandbox
) -> None:
    """An unexpected exception's text may hold anything (a credential in a URL, a password in a config): the
    report names its kind only."""
    real = httpx2.ASGITransport(app=sandbox.app)

    async def answer(request: httpx2.Request) -> httpx2.Response:
        if request.method == "DELETE":
            raise RuntimeError("connection pool broke holding ak_live_do_not_show")
        return await real.handle_async_request(request)

    key = sandbox.seed.demo.api_key
    api = AnyreachClient("http://sandbox.test", key, transport=httpx2.MockTransport(answer), max_retries=0)
    async with api, connect(make_server(client=api, no_confirm=True), "legacy") as client:
        plan = data(await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]}))
        applied = await call(client, "apply_changes", {"plan_id": plan["plan_id"]})
    shown = json.dumps(applied.structured_content) + str(applied.content)
    assert "RuntimeError" in shown
    assert "ak_live_do_not_show" not in shown


async def test_a_run_whose_last_step_fails_is_reported_incomplete_with_that_failure_counted(
    make_server: ServerFactory, sandbox: Sandbox
) -> None:
    """Nothing was left waiting, yet the run did not do everything: the report must not call it complete."""
    unused = {"operations": [{"op": "delete_numbers", "unused": True}]}
    async with connect(make_server(), "legacy") as client:
        steps = data(await call(client, "plan_changes", unused))["steps"]
    last = re.search(r"\+\d+", steps[-1]["detail"])
    assert last is not None
    refusing = refusing_deletes_of(sandbox, last.group())
    async with refusing, connect(make_server(client=refusing, no_confirm=True), "legacy") as client:
        plan = data(await call(client, "plan_changes", unused))
        failed = data(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))["result"]
    assert (failed["complete"], failed["failed"], failed["not_started"]) == (False, 1, 0)
    assert failed["done"] == len(steps) - 1
