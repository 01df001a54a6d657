"""A desired-state document is data: bounded, read as written, validated like a tool's arguments, and never a
way to reach the server's environment. Through the real MCP client and the real sandbox."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.desired import load_document
from mcp_anyreach.changes.engine import plan_document
from mcp_anyreach.changes.store import MemoryPlans
from mcp_anyreach.domain.refusal import Refusal
from tests.server.conftest import CALL_TIMEOUT, ServerFactory, answering, call, connect, questions
from tests.server.test_change_sets import data, error

SERVER_TOKEN = "ak_canary-server-token-5d1e"
CARRIER_PASSWORD = "s3cret-carrier-b"
CARRIER_REF = {"env": "ANYREACH_SIP_CARRIER_B"}
ALIAS_BOMB = """
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]
"""


def trunk_document(password: object, name: str = "Carrier B") -> dict[str, Any]:
    inbound = {"allowed_addresses": ["203.0.113.77/32"], "auth_username": "carrier-b", "auth_password": password}
    return {"trunks": {"items": [{"name": name, "inbound": inbound}]}}


async def trunk_names(api: AnyreachClient) -> set[str]:
    return {trunk.name async for trunk in api.trunks.iter()}


# 7. A document cannot stop the server.


async def test_a_yaml_alias_bomb_is_refused_unexpanded_and_the_server_keeps_answering(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(read_only=True), era) as client:
        refused = error(await call(client, "plan_changes", {"desired_state": ALIAS_BOMB}))
        still_answering = await call(client, "list_trunks", {})

    assert "anchors and aliases" in refused
    assert "write each value out" in refused
    assert not still_answering.is_error


class TextThatWaitsForTheEventLoop(str):
    """A document whose reading only finishes once the event loop has run something else meanwhile."""

    loop_ran: threading.Event

    def _wait(self) -> None:
        if not self.loop_ran.wait(timeout=CALL_TIMEOUT):
            raise AssertionError("the event loop stood still while the document was read")

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        self._wait()
        return super().encode(encoding, errors)

    def __add__(self, other: str) -> str:
        self._wait()
        return str(self) + other


async def test_a_document_is_read_off_the_event_loop_so_other_clients_are_served_meanwhile(
    api: AnyreachClient,
) -> None:
    document = TextThatWaitsForTheEventLoop("trunks: {items: []}\n")
    document.loop_ran = threading.Event()

    async def another_client() -> None:
        document.loop_ran.set()

    async with anyio.create_task_group() as meanwhile:
        meanwhile.start_soon(another_client)
        plan = await plan_document(api, MemoryPlans(), document)
        assert plan.summary() == "Nothing to do: the account already matches."


async def test_a_section_that_repeats_another_through_an_alias_is_refused(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    document = (
        "trunks: &keep\n  prune: true\n  items: [{name: Anyreach managed numbers, managed: true}]\nnumbers: *keep\n"
    )
    async with connect(make_server(), "auto") as client:
        refused = error(await call(client, "plan_changes", {"desired_state": document}))

    assert "anchors and aliases" in refused


async def test_a_key_given_twice_is_refused_instead_of_the_last_one_winning(make_server: ServerFactory) -> None:
    document = "numbers:\n  prune: false\n  items: []\n  prune: true\n"
    async with connect(make_server(), "auto") as client:
        refused = error(await call(client, "plan_changes", {"desired_state": document}))

    assert "the key 'prune' is given twice" in refused


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("numbers:\n  <<: {prune: true}\n  items: []\n", "merge keys (<<) are not accepted"),
        ("[" * 5000, "nested too deeply"),
    ],
    ids=["merge key", "deep nesting"],
)
async def test_a_document_that_is_not_plain_data_is_refused_saying_why(
    make_server: ServerFactory, document: str, reason: str
) -> None:
    async with connect(make_server(read_only=True), "auto") as client:
        refused = error(await call(client, "plan_changes", {"desired_state": document}))

    assert reason in refused


async def test_a_desired_state_argument_over_256_kib_is_refused_saying_how_to_split_it(
    make_server: ServerFactory,
) -> None:
    padded = "# " + "x" * (256 * 1024) + "\ntrunks: {items: []}\n"
    async with connect(make_server(read_only=True), "auto") as client:
        refused = error(await call(client, "plan_changes", {"desired_state": padded}))
        parsed = {"routing": {"workflow_definition": {"pad": "x" * (200 * 1024)}, "enabled": True}, "pad": "y" * 60_000}
        refused_parsed = error(await call(client, "plan_changes", {"desired_state": parsed}))

    for refusal in (refused, refused_parsed):
        assert "at most 262,144 (256 KiB) are accepted here" in refusal
        assert "separate calls" in refusal
        assert "mcp-anyreach plan" in refusal


# 8. A document cannot send the server's secrets anywhere.


@pytest.mark.parametrize("variable", ["ANYREACH_TOKEN", "MCP_ANYREACH_CONFIRM_SECRET", "AWS_SECRET_ACCESS_KEY"])
async def test_a_document_cannot_make_a_server_secret_a_trunk_password(
    make_server: ServerFactory, api: AnyreachClient, monkeypatch: Any, era: str, variable: str
) -> None:
    server = make_server(no_confirm=True)
    monkeypatch.setenv(variable, SERVER_TOKEN)  # after start-up: the server's own settings read some of these
    async with connect(server, era) as client:
        refused = error(await call(client, "plan_changes", {"desired_state": trunk_document({"env": variable})}))

    assert "only environment variables named ANYREACH_SIP_" in refused
    assert SERVER_TOKEN not in refused
    assert "Carrier B" not in await trunk_names(api)


async def test_a_forbidden_variable_is_refused_alike_whether_it_exists_or_not(
    make_server: ServerFactory, monkeypatch: Any
) -> None:
    server = make_server(read_only=True)
    monkeypatch.setenv("MCP_ANYREACH_CONFIRM_SECRET", "x" * 40)
    monkeypatch.delenv("SURELY_NOT_SET_ANYWHERE", raising=False)
    async with connect(server, "auto") as client:
        existing, absent = [
            error(await call(client, "plan_changes", {"desired_state": trunk_document({"env": name})}))
            for name in ("MCP_ANYREACH_CONFIRM_SECRET", "SURELY_NOT_SET_ANYWHERE")
        ]

    assert existing == absent
    assert "ANYREACH_SIP_" in existing


async def test_a_planner_is_never_told_whether_a_password_variable_is_set(
    make_server: ServerFactory, monkeypatch: Any
) -> None:
    monkeypatch.setenv("ANYREACH_SIP_SET", CARRIER_PASSWORD)
    monkeypatch.delenv("ANYREACH_SIP_UNSET", raising=False)
    async with connect(make_server(read_only=True), "auto") as client:
        plans = [
            data(await call(client, "plan_changes", {"desired_state": trunk_document({"env": f"ANYREACH_SIP_{n}"})}))
            for n in ("SET", "UNSET")
        ]

    set_plan, unset_plan = ([step["detail"] for step in plan["steps"]] for plan in plans)
    assert [detail.replace("ANYREACH_SIP_SET", "ANYREACH_SIP_UNSET") for detail in set_plan] == unset_plan


async def test_a_password_variable_missing_where_the_plan_is_applied_is_refused_before_anything_changes(
    make_server: ServerFactory, api: AnyreachClient, monkeypatch: Any
) -> None:
    monkeypatch.delenv("ANYREACH_SIP_CARRIER_B", raising=False)
    async with connect(make_server(no_confirm=True), "auto") as client:
        plan = data(await call(client, "plan_changes", {"desired_state": trunk_document(CARRIER_REF)}))
        refused = error(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))

    assert "ANYREACH_SIP_CARRIER_B" in refused
    assert "not set where it is applied" in refused
    assert "nothing was changed" in refused
    assert "Carrier B" not in await trunk_names(api)


async def test_the_plan_and_the_question_a_person_answers_name_the_password_variable(
    make_server: ServerFactory, api: AnyreachClient, monkeypatch: Any, era: str
) -> None:
    monkeypatch.setenv("ANYREACH_SIP_CARRIER_B", CARRIER_PASSWORD)
    ask = answering("decline")
    async with connect(make_server(), era, elicitation_callback=ask) as client:
        plan = data(await call(client, "plan_changes", {"desired_state": trunk_document(CARRIER_REF)}))
        declined = data(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))

    (step,) = plan["steps"]
    assert "password from $ANYREACH_SIP_CARRIER_B" in step["detail"]
    assert declined["status"] == "declined"
    (question,) = questions(ask)
    assert "password from $ANYREACH_SIP_CARRIER_B" in question
    assert CARRIER_PASSWORD not in question + step["detail"]
    assert "Carrier B" not in await trunk_names(api)


async def test_a_document_with_a_plaintext_trunk_password_is_refused_saying_how_to_reference_one(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    async with connect(make_server(no_confirm=True), "auto") as client:
        refused = error(await call(client, "plan_changes", {"desired_state": trunk_document(CARRIER_PASSWORD)}))

    assert "a password is never written in a document" in refused
    assert "auth_password: {env: ANYREACH_SIP_" in refused
    assert CARRIER_PASSWORD not in refused
    assert "Carrier B" not in await trunk_names(api)


# 9. Documents obey the same input rules as tools.

BIDI = "Carrier\u202eB"
ON_CARRIER_B = {"phone_number": "+12125550131", "trunk": "Carrier B"}
MISLEADING = {
    "trunk name": trunk_document({"env": "ANYREACH_SIP_CARRIER_B"}, name=BIDI),
    "trunk a number is on": {"numbers": {"items": [{"phone_number": "+12125550131", "trunk": BIDI}]}},
    "agent by name": {
        **trunk_document(CARRIER_REF),
        "numbers": {"items": [{**ON_CARRIER_B, "inbound_agent": "Sales\u202e"}]},
    },
    "agent and version": {
        **trunk_document(CARRIER_REF),
        "numbers": {"items": [{**ON_CARRIER_B, "outbound_agent": {"agent": "\u200bSales"}}]},
    },
    "fallback agent": {"routing": {"workflow_id": "wf_router", "fallback_agent": "Support\u202e"}},
}


@pytest.mark.parametrize("document", MISLEADING.values(), ids=MISLEADING.keys())
async def test_names_and_references_with_hidden_characters_are_refused_as_create_trunk_refuses_them(
    make_server: ServerFactory, api: AnyreachClient, era: str, document: dict[str, Any], monkeypatch: Any
) -> None:
    monkeypatch.setenv("ANYREACH_SIP_CARRIER_B", CARRIER_PASSWORD)
    async with connect(make_server(no_confirm=True), era) as client:
        refused = error(await call(client, "plan_changes", {"desired_state": document}))
        by_the_tool = error(await call(client, "create_trunk", {"name": BIDI}))

    reason = "zero-width and other invisible characters are not allowed here"
    assert reason in refused
    assert reason in by_the_tool
    assert not any("\u202e" in name for name in await trunk_names(api))


async def test_a_workflow_id_is_refused_in_a_document_as_the_routing_tools_refuse_it(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    workflow = "wf_router\u202e"
    async with connect(make_server(no_confirm=True), era) as client:
        refused = error(await call(client, "plan_changes", {"desired_state": {"routing": {"workflow_id": workflow}}}))
        by_the_tool = error(await call(client, "create_inbound_routing_config", {"workflow_id": workflow}))

    assert "is not an id: use letters, digits and _ . : -" in refused
    assert "is not an id: use letters, digits and _ . : -" in by_the_tool
    assert await api.inbound_routing.get() is None


async def test_a_stored_plan_altered_to_read_the_servers_token_is_refused_before_anything_changes(
    make_server: ServerFactory, api: AnyreachClient, monkeypatch: Any, tmp_path: Path
) -> None:
    """A plan kept in a shared store (or by an older version) is checked again where it runs."""
    state = tmp_path / "state.db"
    server = make_server(no_confirm=True, token_store=state)
    monkeypatch.setenv("ANYREACH_TOKEN", SERVER_TOKEN)
    async with connect(server, "auto") as client:
        plan = data(await call(client, "plan_changes", {"desired_state": trunk_document(CARRIER_REF)}))
        with closing(sqlite3.connect(state)) as db, db:
            altered = db.execute(
                "UPDATE plans SET plan = replace(plan, 'ANYREACH_SIP_CARRIER_B', 'ANYREACH_TOKEN') WHERE id = ?",
                (plan["plan_id"],),
            )
            assert altered.rowcount == 1
        refused = error(await call(client, "apply_changes", {"plan_id": plan["plan_id"]}))

    assert "ANYREACH_TOKEN" in refused
    assert "only ANYREACH_SIP_... variables are read" in refused
    assert "nothing was changed" in refused
    assert SERVER_TOKEN not in refused
    assert "Carrier B" not in await trunk_names(api)


# Checks a mutation run of the document loader found unguarded.


def test_a_file_is_read_up_to_its_own_cap_while_a_tool_argument_is_held_to_256_kib() -> None:
    padded = "# " + "x" * (300 * 1024) + "\ntrunks: {items: []}\n"

    from_file = load_document(padded, from_file=True)
    with pytest.raises(Refusal) as refused:
        load_document(padded)

    assert from_file.trunks is not None
    assert "at most 262,144 (256 KiB) are accepted here" in str(refused.value)


async def test_a_document_cannot_change_the_configs_of_a_managed_trunk(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    trunks = [trunk async for trunk in api.trunks.iter()]
    managed = next(trunk for trunk in trunks if trunk.managed_account_id)
    changed = {"name": managed.name, "inbound": {"allowed_addresses": ["0.0.0.0/0"]}}
    async with connect(make_server(read_only=True), "auto") as client:
        refused = error(await call(client, "plan_changes", {"desired_state": {"trunks": {"items": [changed]}}}))

    assert f"Trunk {managed.name!r} is managed: its configs cannot be changed" in refused


async def test_a_byoc_trunk_called_managed_in_a_document_is_refused(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    trunks = [trunk async for trunk in api.trunks.iter()]
    byoc = next(trunk for trunk in trunks if not trunk.managed_account_id)
    async with connect(make_server(read_only=True), "auto") as client:
        document = {"trunks": {"items": [{"name": byoc.name, "managed": True}]}}
        refused = error(await call(client, "plan_changes", {"desired_state": document}))

    assert f"There is no managed trunk named {byoc.name!r}" in refused


async def test_a_new_outbound_config_in_a_document_names_what_the_api_needs(make_server: ServerFactory) -> None:
    document = {"trunks": {"items": [{"name": "Carrier C", "outbound": {"auth_username": "carrier-c"}}]}}
    async with connect(make_server(read_only=True), "auto") as client:
        refused = error(await call(client, "plan_changes", {"desired_state": document}))

    assert "gets a new outbound config, which needs address, auth_username and auth_password" in refused
    assert "add address, auth_password." in refused
