"""The confirmation gate against a hostile client: each check refuses for its own stated reason.

Every test asserts the refusal's reason, so removing any single check of the gate (signature, audience,
tool, arguments, session binding, expiry, state, replay, writes since the preview) fails one of them.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
from mcp_types import ElicitRequestParams, ElicitResult

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import data, texts
from tests.server.conftest import (
    ServerFactory,
    answering,
    api,
    connect,
    in_directory,
    make_server,
    sandbox,
    sandbox_api,
)

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server


async def _first_number(api: AnyreachClient) -> str:
    return (await api.phone_numbers.list(limit=1)).items[0].phone_number


async def _offer(api: AnyreachClient, sandbox: Sandbox) -> str:
    offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code="415")
    return offers[0].phone_number


def _token(result: Any) -> str:
    outcome = data(result)
    assert outcome["status"] == "confirmation_required", outcome
    return str(outcome["confirmation_token"])


# 1. A token never replaces a human who can be asked, and works only in the session that saw its preview.


async def test_a_token_from_one_session_is_refused_in_another_session_of_the_same_server(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    number = await _first_number(api)
    server = make_server()
    async with connect(server, "legacy") as first, connect(server, "legacy") as second:
        token = _token(await first.call_tool("delete_phone_number", {"phone_number": number}))
        stolen = await second.call_tool("delete_phone_number", {"phone_number": number, "confirmation_token": token})
        own = await first.call_tool("delete_phone_number", {"phone_number": number, "confirmation_token": token})
    assert stolen.is_error
    assert "another session" in texts(stolen)
    assert data(own)["status"] == "done"


@pytest.mark.parametrize("era", ["auto", "legacy"])
async def test_a_client_that_can_ask_its_user_is_asked_and_a_token_from_it_is_refused(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    number = await _first_number(api)
    server = make_server()
    human = answering("decline")
    async with connect(server, era) as silent, connect(server, era, elicitation_callback=human) as asking:
        token = _token(await silent.call_tool("delete_phone_number", {"phone_number": number}))
        carried = await asking.call_tool("delete_phone_number", {"phone_number": number, "confirmation_token": token})
        asked = await asking.call_tool("delete_phone_number", {"phone_number": number})
    assert carried.is_error
    assert "can ask its user" in texts(carried)
    assert data(asked)["status"] == "declined"
    assert len(human.asked) == 1  # type: ignore[attr-defined]
    assert await in_directory(api, number)


# 2. Questions pending at the same time in two sessions do not overwrite each other.


def _human_waiting_for(both_asked: anyio.Event, asked: list[str]) -> Any:
    async def callback(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        if len(asked) == 2:
            both_asked.set()
        await both_asked.wait()
        return ElicitResult(action="accept", content={"confirm": True})

    return callback


async def test_two_sessions_asking_their_humans_at_once_each_get_what_their_human_approved(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    first_number, second_number = [n.phone_number for n in (await api.phone_numbers.list(limit=2)).items]
    server = make_server()
    both_asked, asked = anyio.Event(), list[str]()
    results: dict[str, Any] = {}

    async def delete(number: str) -> None:
        async with connect(server, "legacy", elicitation_callback=_human_waiting_for(both_asked, asked)) as client:
            results[number] = await client.call_tool("delete_phone_number", {"phone_number": number})

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(delete, first_number)
            group.start_soon(delete, second_number)
    assert {number: data(result)["status"] for number, result in results.items()} == {
        first_number: "done",
        second_number: "done",
    }
    assert not await in_directory(api, first_number)
    assert not await in_directory(api, second_number)


# 3. A shared secret needs a shared record; a token is refused once its target was written by anyone else.


async def test_a_purchase_token_is_refused_after_the_number_was_bought_and_released_by_other_calls(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    number = await _offer(api, sandbox)
    async with connect(make_server(), "legacy") as client:
        kept = _token(await client.call_tool("purchase_phone_number", {"phone_number": number}))
        used = _token(await client.call_tool("purchase_phone_number", {"phone_number": number}))
        bought = await client.call_tool("purchase_phone_number", {"phone_number": number, "confirmation_token": used})
        release = _token(await client.call_tool("delete_phone_number", {"phone_number": number}))
        await client.call_tool("delete_phone_number", {"phone_number": number, "confirmation_token": release})
        again = await client.call_tool("purchase_phone_number", {"phone_number": number, "confirmation_token": kept})
    assert data(bought)["status"] == "done"
    assert again.is_error
    assert "changed by another call" in texts(again)
    assert not await in_directory(api, number)


async def test_a_create_routing_token_is_refused_after_another_create_and_a_delete(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    arguments = {"workflow_id": "wf_main"}
    async with connect(make_server(), "auto") as client:
        kept = _token(await client.call_tool("create_inbound_routing_config", arguments))
        used = _token(await client.call_tool("create_inbound_routing_config", arguments))
        await client.call_tool("create_inbound_routing_config", {**arguments, "confirmation_token": used})
        delete = _token(await client.call_tool("delete_inbound_routing_config", {}))
        await client.call_tool("delete_inbound_routing_config", {"confirmation_token": delete})
        again = await client.call_tool("create_inbound_routing_config", {**arguments, "confirmation_token": kept})
    assert again.is_error
    assert "changed by another call" in texts(again)
    assert await api.inbound_routing.get() is None


def test_a_shared_confirmation_secret_without_a_shared_token_record_is_refused_in_every_mode() -> None:
    from pydantic import ValidationError

    from mcp_anyreach.settings import Settings

    for transport in ("stdio", "sse", "streamable-http"):
        with pytest.raises(ValidationError, match="MCP_ANYREACH_TOKEN_STORE"):
            Settings(transport=transport, confirm_secret="replicas-share-this-secret-0123456789abcdef")


# 15. One refusal per check, each with its own reason.


async def test_a_token_for_another_tool_with_the_same_arguments_is_refused_as_for_another_tool(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    arguments = {"workflow_id": "wf_main", "enabled": True}
    async with connect(make_server(), "legacy") as client:
        token = _token(await client.call_tool("create_inbound_routing_config", arguments))
        await api.inbound_routing.create(workflow_id="wf_other", enabled=False)
        crossed = await client.call_tool("update_inbound_routing_config", {**arguments, "confirmation_token": token})
    assert "another tool" in texts(crossed)
    assert (await api.inbound_routing.get()).workflow_id == "wf_other"  # type: ignore[union-attr]


async def test_a_token_for_other_arguments_on_the_same_trunk_is_refused_as_other_arguments(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    trunk = (await api.trunks.create(name="Carrier")).id
    async with connect(make_server(), "legacy") as client:
        token = _token(await client.call_tool("update_trunk", {"trunk_id": trunk, "name": "Carrier A"}))
        other = {"trunk_id": trunk, "name": "Carrier B", "confirmation_token": token}
        refused = await client.call_tool("update_trunk", other)
    assert refused.is_error
    assert "arguments differ" in texts(refused)


async def test_a_token_from_a_server_of_another_organization_is_refused_as_for_another_account(
    make_server: ServerFactory, sandbox: Sandbox
) -> None:
    replica = {"confirm_secret": "replicas-share-this-secret-0123456789abcdef", "stateless": True}
    async with sandbox_api(sandbox, sandbox.seed.other.api_key) as other_api:
        async with connect(make_server(**replica), "auto") as demo:
            token = _token(await demo.call_tool("create_inbound_routing_config", {"workflow_id": "wf_x"}))
        async with connect(make_server(client=other_api, **replica), "auto") as other:
            refused = await other.call_tool(
                "create_inbound_routing_config", {"workflow_id": "wf_x", "confirmation_token": token}
            )
    assert "another account" in texts(refused)


async def test_an_expired_token_is_refused_as_expired(make_server: ServerFactory, api: AnyreachClient) -> None:
    number = await _first_number(api)
    now = [time.time()]
    async with connect(make_server(clock=lambda: now[0]), "legacy") as client:
        token = _token(await client.call_tool("delete_phone_number", {"phone_number": number}))
        now[0] += 301
        late = await client.call_tool("delete_phone_number", {"phone_number": number, "confirmation_token": token})
    assert "expired" in texts(late)
    assert await in_directory(api, number)


async def test_a_token_whose_number_changed_outside_this_server_is_refused_as_changed(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0]
    async with connect(make_server(), "legacy") as client:
        token = _token(await client.call_tool("delete_phone_number", {"phone_number": number.phone_number}))
        await api.phone_numbers.update(number.phone_number, outbound_shareable=not number.outbound_shareable)
        arguments = {"phone_number": number.phone_number, "confirmation_token": token}
        stale = await client.call_tool("delete_phone_number", arguments)
    assert "changed since the preview" in texts(stale)
    assert await in_directory(api, number.phone_number)


async def test_a_token_used_once_is_never_run_again_even_when_its_preview_still_holds(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    await api.inbound_routing.create(workflow_id="wf_main", enabled=True)
    async with connect(make_server(), "legacy") as client:
        token = _token(await client.call_tool("update_inbound_routing_config", {"enabled": False}))
        first = await client.call_tool("update_inbound_routing_config", {"enabled": False, "confirmation_token": token})
        await api.inbound_routing.update(enabled=True)
        replay = await client.call_tool(
            "update_inbound_routing_config", {"enabled": False, "confirmation_token": token}
        )
    assert data(first)["status"] == "done"
    assert data(replay)["repeat"] is True, "answered from the first use"
    assert (await api.inbound_routing.get()).enabled  # type: ignore[union-attr]


@pytest.mark.parametrize("store", ["memory", "sqlite"])
async def test_one_token_confirmed_many_times_at_once_runs_once_and_the_others_are_refused_or_told_the_outcome(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, tmp_path: Any, store: str
) -> None:
    trunk = (await api.trunks.create(name="Carrier")).id
    server = make_server(**({"token_store": tmp_path / "used.db"} if store == "sqlite" else {}))
    async with connect(server, "legacy") as client:
        token = _token(await client.call_tool("update_trunk", {"trunk_id": trunk, "name": "Carrier A"}))
        arguments = {"trunk_id": trunk, "name": "Carrier A", "confirmation_token": token}
        outcomes: list[Any] = []

        async def confirm() -> None:
            outcomes.append(await client.call_tool("update_trunk", arguments))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                for _ in range(8):
                    group.start_soon(confirm)
    refused = [texts(result) for result in outcomes if result.is_error]
    answered = [data(result) for result in outcomes if not result.is_error]
    assert len(refused) + len(answered) == 8
    # A late call may also find the trunk already renamed, or the first call still running; either way it is
    # refused. A call after the first one finished is told its outcome. Only one ran.
    reasons = ("already used", "changed since the preview", "Nothing to change", "already runs with this")
    assert all(any(reason in text for reason in reasons) for text in refused), refused
    assert [outcome.get("repeat", False) for outcome in answered].count(False) == 1
    assert sandbox.app.state.request_counts["PUT"] == 1


async def test_a_token_is_good_until_the_second_it_expires(make_server: ServerFactory, api: AnyreachClient) -> None:
    number = await _first_number(api)
    now = [1_900_000_000.0]
    async with connect(make_server(clock=lambda: now[0]), "legacy") as client:
        token = _token(await client.call_tool("delete_phone_number", {"phone_number": number}))
        now[0] += 300
        last_second = await client.call_tool(
            "delete_phone_number", {"phone_number": number, "confirmation_token": token}
        )
    assert data(last_second)["status"] == "done"


async def test_a_refused_token_is_written_to_the_audit_log_as_refused_with_the_call(
    make_server: ServerFactory, api: AnyreachClient, tmp_path: Any
) -> None:
    import json

    number = await _first_number(api)
    log = tmp_path / "audit.jsonl"
    async with connect(make_server(audit_log=log), "legacy") as client:
        token = _token(await client.call_tool("delete_phone_number", {"phone_number": number}))
        await client.call_tool(
            "delete_phone_number", {"phone_number": number, "confirmation_token": token[:-4] + "AAAA"}
        )
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["tool"] == "delete_phone_number"
    assert last["arguments"] == {"phone_number": number}
    assert last["confirmation"] == "token"
    assert last["outcome"].startswith("refused: This confirmation token is not valid")


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-4] + "AAAA",
        lambda token: token[:-4] + "é" * 4,
        lambda token: token.replace(".", ".x", 1),
        lambda token: token.rsplit(".", 1)[0],
        lambda token: "xx1" + token[3:],
    ],
    ids=["altered-signature", "non-ascii-signature", "altered-claims", "truncated", "another-format"],
)
async def test_an_altered_token_is_refused_as_not_valid_with_the_usual_sentence(
    make_server: ServerFactory, api: AnyreachClient, forge: Any
) -> None:
    number = await _first_number(api)
    async with connect(make_server(), "legacy") as client:
        token = _token(await client.call_tool("delete_phone_number", {"phone_number": number}))
        forged = await client.call_tool(
            "delete_phone_number", {"phone_number": number, "confirmation_token": forge(token)}
        )
    assert forged.is_error
    assert "not valid" in texts(forged)
    assert await in_directory(api, number)
