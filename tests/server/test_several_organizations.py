"""One server, several organizations: every call names the one it acts in, and nothing crosses between them.

The fixture is the sandbox's two demo organizations ("Demo" and "Other"), served through their common member's
personal access token, each request carrying its organization's X-Anyreach-Org.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CallToolResult,
    ElicitRequest,
    ElicitRequestParams,
    ElicitResult,
    InputRequiredResult,
    InputResponses,
    PromptReference,
    ResourceUpdatedNotification,
    TextResourceContents,
)

from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server.registry import SPECS
from tests.server.conftest import (
    ACCEPT,
    CALL_TIMEOUT,
    ServerFactory,
    answering,
    call,
    connect,
    questions,
    sandbox_api,
)

ACTING = sorted(spec.name for spec in SPECS)


def text(result: CallToolResult) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


async def numbers_of(client: Client, organization: str) -> set[str]:
    listed = await call(client, "list_phone_numbers", {"organization": organization, "limit": 100})
    assert not listed.is_error, text(listed)
    assert listed.structured_content is not None
    return {row["phone_number"] for row in listed.structured_content["items"]}


async def test_every_tool_that_acts_in_an_organization_requires_one_and_list_organizations_names_them(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_organizations_server(), era) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        listed = await call(client, "list_organizations", {})

    assert sorted(set(tools) - {"list_organizations"}) == ACTING
    for name in ACTING:
        schema = tools[name].input_schema
        assert next(iter(schema["properties"])) == "organization", name
        assert "organization" in schema["required"], name
    assert "organization" not in tools["list_organizations"].input_schema.get("properties", {})
    assert listed.structured_content == {
        "organizations": [
            {"id": sandbox.seed.demo.org_id, "name": "Demo"},
            {"id": sandbox.seed.other.org_id, "name": "Other"},
        ]
    }


async def test_a_call_without_an_organization_or_with_an_unknown_one_reads_nothing_and_lists_the_choices(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_organizations_server(), era) as client:
        missing = await call(client, "list_phone_numbers", {})
        unknown = await call(client, "list_phone_numbers", {"organization": "org_nobody"})

    for result in (missing, unknown):
        assert result.is_error
        assert f"Demo (id {sandbox.seed.demo.org_id}); Other (id {sandbox.seed.other.org_id})" in text(result)
    assert "No organization given" in text(missing)
    assert "'org_nobody' is not an organization this server serves" in text(unknown)


async def test_each_organization_sees_only_its_own_numbers_by_id_or_by_name(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_organizations_server(), era) as client:
        demo = await numbers_of(client, "Demo")
        other = await numbers_of(client, sandbox.seed.other.org_id)
        result = await call(client, "get_phone_number", {"organization": "Other", "phone_number": "+16175550111"})

    assert "+14155550101" in demo
    assert "+16175550111" in other
    assert not demo & other
    assert result.structured_content is not None
    assert result.structured_content["in_organization"] == f"Other ({sandbox.seed.other.org_id})"


async def test_the_question_names_the_organization_the_change_is_made_in(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    asked = answering("accept", ACCEPT)
    async with connect(make_organizations_server(), era, elicitation_callback=asked) as client:
        done = await call(client, "delete_phone_number", {"organization": "Other", "phone_number": "+12065550122"})
        other = await numbers_of(client, "Other")

    assert not done.is_error, text(done)
    [question] = questions(asked)
    assert question.startswith(f"In organization Other ({sandbox.seed.other.org_id}): ")
    assert "+12065550122" not in other


async def test_a_confirmation_token_minted_in_one_organization_is_refused_in_another(
    make_organizations_server: ServerFactory, sandbox: Sandbox
) -> None:
    arguments: dict[str, Any] = {"workflow_id": "wf_after_hours"}
    async with connect(make_organizations_server(), "legacy") as client:
        offered = await call(client, "create_inbound_routing_config", {"organization": "Demo", **arguments})
        assert offered.structured_content is not None, text(offered)
        token = offered.structured_content["confirmation_token"]
        assert offered.structured_content["message"].startswith(f"In organization Demo ({sandbox.seed.demo.org_id})")
        elsewhere = await call(
            client,
            "create_inbound_routing_config",
            {"organization": "Other", **arguments, "confirmation_token": token},
        )
        other = await call(client, "get_inbound_routing_config", {"organization": "Other"})
        demo = await call(client, "get_inbound_routing_config", {"organization": "Demo"})

    assert elsewhere.is_error, text(elsewhere)
    for unchanged in (other, demo):
        assert unchanged.structured_content is not None
        assert unchanged.structured_content.get("config") is None, "nothing was created in either organization"


async def test_numbers_cannot_be_moved_onto_another_organizations_trunk(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    demo_numbers = ["+12125550131"]
    asked = answering("accept", ACCEPT)
    async with connect(make_organizations_server(), era, elicitation_callback=asked) as client:
        moved = await call(
            client,
            "move_phone_numbers",
            {"organization": "Demo", "phone_numbers": demo_numbers, "to_trunk_id": sandbox.seed.other.byoc_trunk_id},
        )
        number = await call(client, "get_phone_number", {"organization": "Demo", "phone_number": demo_numbers[0]})
        other = await numbers_of(client, "Other")

    assert moved.is_error
    assert questions(asked) == [], "nobody is asked to approve a move that cannot happen"
    assert number.structured_content is not None
    assert number.structured_content["trunk_id"] == sandbox.seed.demo.byoc_trunk_id
    assert demo_numbers[0] not in other


async def test_a_plan_made_in_one_organization_cannot_be_applied_in_another(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    asked = answering("accept", ACCEPT)
    async with connect(make_organizations_server(), era, elicitation_callback=asked) as client:
        planned = await call(
            client,
            "plan_changes",
            {"organization": "Demo", "operations": [{"op": "delete_numbers", "phone_numbers": ["+12125550132"]}]},
        )
        assert planned.structured_content is not None, text(planned)
        plan_id = planned.structured_content["plan_id"]
        applied = await call(client, "apply_changes", {"organization": "Other", "plan_id": plan_id})
        demo = await numbers_of(client, "Demo")

    assert applied.is_error
    assert "+12125550132" in demo
    assert questions(asked) == []


@pytest.mark.parametrize("store", ["memory", "token store file"])
async def test_the_purchase_budget_is_counted_per_organization(
    make_organizations_server: ServerFactory, era: str, store: str, tmp_path: Path
) -> None:
    shared = {"token_store": tmp_path / "state.db"} if store != "memory" else {}
    server = make_organizations_server(no_confirm=True, max_purchases=1, purchase_window=timedelta(hours=1), **shared)
    async with connect(server, era) as client:
        bought: dict[str, list[CallToolResult]] = {}
        for organization in ("Demo", "Other"):
            offers = await call(client, "search_available_numbers", {"organization": organization, "area_code": "415"})
            assert offers.structured_content is not None, text(offers)
            first, second = (row["phone_number"] for row in offers.structured_content["items"][:2])
            bought[organization] = [
                await call(client, "purchase_phone_number", {"organization": organization, "phone_number": number})
                for number in (first, second)
            ]

    for organization, (first, second) in bought.items():
        assert not first.is_error, (organization, text(first))
        assert second.is_error, organization
        assert "reached its purchase limit" in text(second), text(second)


async def test_one_audit_answers_for_every_organization_grouped_by_organization(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_organizations_server(), era) as client:
        audit = await call(client, "audit_inventory", {"organization": "all", "min_severity": "info"})

    assert audit.structured_content is not None, text(audit)
    groups = audit.structured_content["organizations"]
    assert [group["in_organization"] for group in groups] == [
        f"Demo ({sandbox.seed.demo.org_id})",
        f"Other ({sandbox.seed.other.org_id})",
    ]
    assert all("findings" in group and "counts" in group for group in groups)


async def test_resources_of_each_organization_live_under_its_own_uri(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    other = sandbox.seed.other.org_id
    async with connect(make_organizations_server(), era) as client:
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        listed = await client.read_resource("anyreach://organizations")
        numbers = await client.read_resource(f"anyreach://organizations/{other}/phone-numbers")
        by_name = await client.read_resource("anyreach://organizations/Other/inbound-routing-config")
        static = {str(r.uri) for r in (await client.list_resources()).resources}

    assert "anyreach://organizations/{organization}/phone-numbers/{phone_number}" in templates
    assert "anyreach://inventory" not in static, "no resource of an unnamed organization"
    [organizations] = listed.contents
    assert isinstance(organizations, TextResourceContents)
    assert [org["name"] for org in json.loads(organizations.text)] == ["Demo", "Other"]
    [body] = numbers.contents
    assert isinstance(body, TextResourceContents)
    assert {row["phone_number"] for row in json.loads(body.text)} >= {"+16175550111"}
    assert "+14155550101" not in body.text
    assert by_name.contents


async def test_each_audit_line_names_the_organization_the_write_was_made_in(
    make_organizations_server: ServerFactory, sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    log = tmp_path / "audit.jsonl"
    async with connect(make_organizations_server(audit_log=log, no_confirm=True), era) as client:
        for organization, number in (("Demo", "+12125550132"), ("Other", "+12065550122")):
            done = await call(client, "delete_phone_number", {"organization": organization, "phone_number": number})
            assert not done.is_error, text(done)

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    done = {line["arguments"]["phone_number"]: line["organization"] for line in lines if line["outcome"] == "done"}
    assert done == {"+12125550132": sandbox.seed.demo.org_id, "+12065550122": sandbox.seed.other.org_id}


async def test_a_document_is_planned_only_in_the_organization_it_names(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    document: dict[str, Any] = {"organization": "Other", "numbers": {"prune": True, "items": []}}
    async with connect(make_organizations_server(), era) as client:
        wrong = await call(client, "plan_changes", {"organization": "Demo", "desired_state": document})
        right = await call(
            client, "plan_changes", {"organization": sandbox.seed.other.org_id, "desired_state": document}
        )
        demo = await numbers_of(client, "Demo")

    assert wrong.is_error
    assert "The document is for organization 'Other'" in text(wrong)
    assert not right.is_error, text(right)
    assert right.structured_content is not None
    assert right.structured_content["in_organization"] == f"Other ({sandbox.seed.other.org_id})"
    assert "+14155550101" in demo, "planning changes nothing"


async def test_a_write_tells_subscribers_the_uri_of_the_organization_it_changed(
    make_organizations_server: ServerFactory, sandbox: Sandbox
) -> None:
    updated: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updated.append(str(message.params.uri))

    arguments = {"organization": "Other", "phone_number": "+12065550122", "outbound_shareable": True}
    async with connect(make_organizations_server(), "legacy", message_handler=on_message) as client:
        done = await call(client, "update_phone_number", arguments)

    assert not done.is_error, text(done)
    by_id, by_name = f"anyreach://organizations/{sandbox.seed.other.org_id}", "anyreach://organizations/Other"
    for within in (by_id, by_name):
        assert f"{within}/phone-numbers/+12065550122" in updated
        assert f"{within}/inventory" in updated
    assert all(uri.startswith((by_id + "/", by_name + "/")) for uri in updated), updated


async def test_each_prompt_asks_which_organization_and_its_steps_stay_there(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    async with connect(make_organizations_server(), era) as client:
        prompts = {prompt.name: prompt for prompt in (await client.list_prompts()).prompts}
        audit = await client.get_prompt("audit_telephony", {"organization": "Other"})

    for prompt in prompts.values():
        assert next((a.name, a.required) for a in prompt.arguments or []) == ("organization", True)
    steps = "\n".join(getattr(message.content, "text", "") for message in audit.messages)
    assert 'call every tool with organization "Other"' in steps
    assert f"anyreach://organizations/{sandbox.seed.other.org_id}/inventory" in steps
    assert "anyreach://inventory" not in steps


async def test_a_confirmed_write_repeated_with_its_token_is_answered_once_in_its_own_organization(
    make_organizations_server: ServerFactory,
) -> None:
    arguments = {"organization": "Other", "phone_number": "+12065550122"}
    async with connect(make_organizations_server(), "legacy") as client:
        offered = await call(client, "delete_phone_number", arguments)
        assert offered.structured_content is not None, text(offered)
        token = offered.structured_content["confirmation_token"]
        first = await call(client, "delete_phone_number", {**arguments, "confirmation_token": token})
        again = await call(client, "delete_phone_number", {**arguments, "confirmation_token": token})

    assert first.structured_content is not None, text(first)
    assert first.structured_content["status"] == "done"
    assert again.structured_content is not None, text(again)
    assert again.structured_content["repeat"] is True
    assert again.structured_content["in_organization"].startswith("Other")


@pytest.mark.parametrize("store", ["memory", "token store file"])
async def test_a_write_in_one_organization_never_spoils_a_token_another_organization_previewed(
    make_organizations_server: ServerFactory, tmp_path: Path, store: str
) -> None:
    shared = {"token_store": tmp_path / "state.db"} if store != "memory" else {}
    routing = {"workflow_id": "wf_after_hours"}  # every organization's routing config has the same URI
    async with connect(make_organizations_server(**shared), "legacy") as client:
        offered = await call(client, "create_inbound_routing_config", {"organization": "Other", **routing})
        assert offered.structured_content is not None, text(offered)
        for_demo = await call(client, "create_inbound_routing_config", {"organization": "Demo", **routing})
        assert for_demo.structured_content is not None, text(for_demo)
        token = for_demo.structured_content["confirmation_token"]
        demo = await call(
            client, "create_inbound_routing_config", {"organization": "Demo", **routing, "confirmation_token": token}
        )
        token = offered.structured_content["confirmation_token"]
        other = await call(
            client, "create_inbound_routing_config", {"organization": "Other", **routing, "confirmation_token": token}
        )

    assert demo.structured_content is not None, text(demo)
    assert demo.structured_content["status"] == "done"
    assert not other.is_error, text(other)
    assert other.structured_content is not None
    assert other.structured_content["status"] == "done"


async def test_a_prompt_refuses_an_organization_the_server_does_not_serve_and_every_uri_it_gives_can_be_read(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    names = f"{sandbox.seed.demo.org_id}=Acme Corp,{sandbox.seed.other.org_id}=EU / UK"
    async with connect(make_organizations_server(org_id=names), era) as client:
        with pytest.raises(MCPError) as unknown:
            await client.get_prompt("audit_telephony", {"organization": "acme corp"})
        audit = await client.get_prompt("audit_telephony", {"organization": "EU / UK"})
        provision = await client.get_prompt("provision_number", {"organization": "EU / UK", "area_code": "415"})
        steps = "\n".join(getattr(message.content, "text", "") for message in [*audit.messages, *provision.messages])
        uris = {uri.rstrip(".,:;)") for uri in re.findall(r"anyreach://\S+", steps)}
        read = [await client.read_resource(uri) for uri in sorted(uris)]
        by_name = await client.read_resource("anyreach://organizations/EU%20%2F%20UK/inventory")

    assert "'acme corp' is not an organization this server serves" in unknown.value.message
    assert f"Acme Corp (id {sandbox.seed.demo.org_id})" in unknown.value.message
    assert 'call every tool with organization "EU / UK"' in steps
    assert len(uris) == 2, steps  # the inventory and the routing config
    assert all(contents.contents for contents in read)
    assert by_name.contents, "a name with a space and a slash reads back, escaped"


@pytest.mark.parametrize("store", ["memory", "token store file"])
async def test_an_undo_id_of_one_organization_plans_nothing_in_another(
    make_organizations_server: ServerFactory, tmp_path: Path, store: str
) -> None:
    shared = {"token_store": tmp_path / "state.db"} if store != "memory" else {}
    routing = {"workflow_id": "wf_after_hours"}
    async with connect(make_organizations_server(no_confirm=True, **shared), "auto") as client:
        made = await call(client, "create_inbound_routing_config", {"organization": "Demo", **routing})
        await call(client, "create_inbound_routing_config", {"organization": "Other", **routing})
        assert made.structured_content is not None, text(made)
        undo = {"operations": [{"op": "undo", "undo_id": made.structured_content["undo_id"]}]}
        elsewhere = await call(client, "plan_changes", {"organization": "Other", **undo})
        other = await call(client, "get_inbound_routing_config", {"organization": "Other"})
        here = await call(client, "plan_changes", {"organization": "Demo", **undo})

    assert elsewhere.is_error
    assert "There is no undo record" in text(elsewhere)
    assert other.structured_content is not None
    assert other.structured_content["config"]["workflow_id"] == "wf_after_hours", "Other's routing stays"
    assert here.structured_content is not None, text(here)
    assert [step["action"] for step in here.structured_content["steps"]] == ["delete_routing"]


async def test_every_audit_line_of_a_change_set_names_the_organization_it_was_planned_in(
    make_organizations_server: ServerFactory, sandbox: Sandbox, tmp_path: Path
) -> None:
    log = tmp_path / "audit.jsonl"
    operations = [{"op": "delete_numbers", "phone_numbers": ["+12065550122"]}]
    async with connect(make_organizations_server(audit_log=log, no_confirm=True), "auto") as client:
        planned = await call(client, "plan_changes", {"organization": "Other", "operations": operations})
        assert planned.structured_content is not None, text(planned)
        plan_id = planned.structured_content["plan_id"]
        applied = await call(client, "apply_changes", {"organization": "Other", "plan_id": plan_id})

    assert applied.structured_content is not None, text(applied)
    assert applied.structured_content["status"] == "done"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    of_plan = [line for line in lines if line["arguments"].get("plan_id") == plan_id]
    assert {line["tool"] for line in of_plan} == {"apply_changes", "delete_phone_number"}
    assert {line["organization"] for line in of_plan} == {sandbox.seed.other.org_id}


async def test_a_question_waiting_in_one_organization_while_another_organization_writes_still_acts_where_it_asked(
    make_organizations_server: ServerFactory, sandbox: Sandbox, tmp_path: Path
) -> None:
    log = tmp_path / "audit.jsonl"
    demo_asked, other_done = anyio.Event(), anyio.Event()
    asked: list[str] = []

    async def answer_after_other_wrote(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        demo_asked.set()
        await other_done.wait()
        return ElicitResult(action="accept", content={"confirm": True})

    server = make_organizations_server(audit_log=log)
    async with connect(server, "legacy", elicitation_callback=answer_after_other_wrote) as client:
        results: dict[str, CallToolResult] = {}

        async def delete_in_demo() -> None:
            arguments = {"organization": "Demo", "phone_number": "+12125550132"}
            results["Demo"] = await call(client, "delete_phone_number", arguments)

        async with anyio.create_task_group() as both:
            both.start_soon(delete_in_demo)
            with anyio.fail_after(CALL_TIMEOUT):
                await demo_asked.wait()
            arguments = {"organization": "Other", "phone_number": "+12065550122", "outbound_shareable": True}
            results["Other"] = await call(client, "update_phone_number", arguments)
            other_done.set()
        demo_numbers = await numbers_of(client, "Demo")

    done, other = results["Demo"], results["Other"]
    assert not other.is_error, text(other)
    assert [question.split(":")[0] for question in asked] == [f"In organization Demo ({sandbox.seed.demo.org_id})"]
    assert done.structured_content is not None, text(done)
    assert done.structured_content["in_organization"] == f"Demo ({sandbox.seed.demo.org_id})"
    assert "+12125550132" not in demo_numbers
    written = {
        line["arguments"]["phone_number"]: line["organization"]
        for line in map(json.loads, log.read_text().splitlines())
        if line["outcome"] == "done"
    }
    assert written == {"+12125550132": sandbox.seed.demo.org_id, "+12065550122": sandbox.seed.other.org_id}


async def test_a_yes_to_one_organizations_question_never_approves_the_same_call_in_another(
    make_organizations_server: ServerFactory, sandbox: Sandbox
) -> None:
    routing = {"workflow_id": "wf_after_hours"}  # the same preview state in both: neither has routing yet
    async with connect(make_organizations_server(), "auto", elicitation_callback=answering("accept", ACCEPT)) as client:
        asked = await client.session.call_tool(
            "create_inbound_routing_config", {"organization": "Demo", **routing}, allow_input_required=True
        )
        assert isinstance(asked, InputRequiredResult), asked
        yes: InputResponses = {
            key: ElicitResult(action="accept", content={"confirm": True}) for key in asked.input_requests or {}
        }
        moved = {"organization": "Other", **routing}
        with pytest.raises(MCPError):  # the round's state is bound to the arguments it was asked with
            await client.session.call_tool(
                "create_inbound_routing_config",
                moved,
                input_responses=yes,
                request_state=asked.request_state,
                allow_input_required=True,
            )
        again = await client.session.call_tool(
            "create_inbound_routing_config", moved, input_responses=yes, allow_input_required=True
        )
        other = await call(client, "get_inbound_routing_config", {"organization": "Other"})

    assert isinstance(again, InputRequiredResult), "a yes without its round's state is asked again"
    [request] = (again.input_requests or {}).values()
    assert isinstance(request, ElicitRequest)
    assert request.params.message.startswith(f"In organization Other ({sandbox.seed.other.org_id}): ")
    assert other.structured_content is not None
    assert other.structured_content.get("config") is None


async def test_the_inventory_a_prompt_reads_is_the_one_a_write_in_its_organization_says_changed(
    make_organizations_server: ServerFactory,
) -> None:
    updated: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            updated.append(str(message.params.uri))

    async with connect(make_organizations_server(), "legacy", message_handler=on_message) as client:
        audit = await client.get_prompt("audit_telephony", {"organization": "Other"})
        steps = "\n".join(getattr(message.content, "text", "") for message in audit.messages)
        [inventory] = {uri.rstrip(".,:;)") for uri in re.findall(r"anyreach://\S+", steps)}
        arguments = {"organization": "Other", "phone_number": "+12065550122", "outbound_shareable": True}
        done = await call(client, "update_phone_number", arguments)

    assert not done.is_error, text(done)
    assert inventory in updated, (inventory, updated)


async def test_a_prompt_argument_completes_from_the_organization_already_chosen(
    make_organizations_server: ServerFactory, sandbox: Sandbox
) -> None:
    async with (
        sandbox_api(sandbox, sandbox.seed.user.pat, sandbox.seed.other.org_id) as other_api,
        sandbox_api(sandbox, sandbox.seed.user.pat, sandbox.seed.demo.org_id) as demo_api,
    ):
        other_agents = {agent.id async for agent in other_api.agents.iter()}
        demo_agents = {agent.id async for agent in demo_api.agents.iter()}
    provision, agent = PromptReference(name="provision_number"), {"name": "agent_id", "value": ""}
    async with connect(make_organizations_server(), "auto") as client:
        chosen = await client.complete(provision, agent, {"organization": "Other"})
        unchosen = await client.complete(provision, agent)

    assert set(chosen.completion.values) == other_agents
    assert not other_agents & demo_agents
    assert unchosen.completion.values == [], "nothing to suggest before an organization is chosen"


async def test_an_audit_of_all_says_which_organization_could_not_be_read_and_still_answers_for_the_others(
    make_organizations_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    names = f"{sandbox.seed.demo.org_id}=Demo,org_not_a_member=Elsewhere"  # the token's user is not in the second
    async with connect(make_organizations_server(org_id=names), era) as client:
        audit = await call(client, "audit_inventory", {"organization": "all"})

    assert not audit.is_error, text(audit)
    assert audit.structured_content is not None
    demo, elsewhere = audit.structured_content["organizations"]
    assert demo["in_organization"] == f"Demo ({sandbox.seed.demo.org_id})"
    assert demo["findings"]
    assert elsewhere["in_organization"] == "Elsewhere (org_not_a_member)"
    assert "not a member of organization org_not_a_member" in elsewhere["error"]


def trunk_document(variable: str) -> dict[str, Any]:
    side = {"address": "sip.carrier.example:5061", "auth_username": "carrier-out", "auth_password": {"env": variable}}
    return {"trunks": {"items": [{"name": "Carrier", "outbound": side}]}}


async def test_a_plan_reads_only_its_own_organizations_sip_password_variables(
    make_organizations_server: ServerFactory, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, era: str
) -> None:
    demo_secret = f"ANYREACH_SIP_{sandbox.seed.demo.org_id.upper()}_CARRIER"
    other_secret = f"ANYREACH_SIP_{sandbox.seed.other.org_id.upper()}_CARRIER"
    monkeypatch.setenv(demo_secret, "demo-only-password")
    monkeypatch.setenv(other_secret, "other-password")
    async with connect(make_organizations_server(no_confirm=True), era) as client:
        taken = await call(
            client, "plan_changes", {"organization": "Other", "desired_state": trunk_document(demo_secret)}
        )
        assert taken.structured_content is not None, text(taken)
        refused = await call(
            client, "apply_changes", {"organization": "Other", "plan_id": taken.structured_content["plan_id"]}
        )
        own = await call(
            client, "plan_changes", {"organization": "Other", "desired_state": trunk_document(other_secret)}
        )
        assert own.structured_content is not None, text(own)
        done = await call(
            client, "apply_changes", {"organization": "Other", "plan_id": own.structured_content["plan_id"]}
        )
        trunks = await call(client, "list_trunks", {"organization": "Other"})

    assert refused.is_error
    assert f"only ANYREACH_SIP_{sandbox.seed.other.org_id.upper()}_... variables are read in this organization" in text(
        refused
    )
    assert not done.is_error, text(done)
    assert "demo-only-password" not in text(refused) + text(done)
    assert text(trunks).count('"Carrier"') == 1, "created once, by the plan that read Other's own variable"
