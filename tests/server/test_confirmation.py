"""Confirmation gates: nothing gated happens without a human's yes or a token from a preview."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp_types import ElicitRequestParams, ElicitResult

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import texts
from tests.server.conftest import (
    ACCEPT,
    ServerFactory,
    answering,
    call,
    connect,
    in_directory,
    refusing_deletes_of,
    sandbox_api,
)


async def _offer(api: AnyreachClient, sandbox: Sandbox, area_code: str = "415") -> str:
    offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code=area_code)
    return offers[0].phone_number


async def test_purchase_without_confirmation_buys_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    number = await _offer(api, sandbox)
    async with connect(make_server(), era) as client:
        result = await client.call_tool("purchase_phone_number", {"phone_number": number})
    assert not result.is_error
    outcome = result.structured_content or {}
    assert outcome["status"] == "confirmation_required"
    assert number in outcome["message"]
    assert outcome["confirmation_token"]
    assert not await in_directory(api, number)


async def test_purchase_with_the_previewed_token_buys_the_number_once(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    number = await _offer(api, sandbox)
    async with connect(make_server(), era) as client:
        preview = await client.call_tool("purchase_phone_number", {"phone_number": number})
        token = (preview.structured_content or {})["confirmation_token"]
        done = await client.call_tool("purchase_phone_number", {"phone_number": number, "confirmation_token": token})
        replay = await client.call_tool("purchase_phone_number", {"phone_number": number, "confirmation_token": token})
    assert (done.structured_content or {})["status"] == "done"
    assert (done.structured_content or {})["result"]["phone_number"] == number
    assert await in_directory(api, number)
    # The same call again (a client that lost the answer) is told the first outcome; nothing is bought again.
    assert (replay.structured_content or {})["repeat"] is True
    assert (replay.structured_content or {})["result"] == (done.structured_content or {})["result"]
    assert sandbox.app.state.request_counts["POST"] == 1


async def test_accepting_the_elicitation_purchases_and_shows_the_human_what_it_costs(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    number = await _offer(api, sandbox)
    human = answering("accept", {"confirm": True})
    async with connect(make_server(), era, elicitation_callback=human) as client:
        result = await client.call_tool("purchase_phone_number", {"phone_number": number})
    assert (result.structured_content or {})["status"] == "done"
    assert await in_directory(api, number)
    [question] = human.asked  # type: ignore[attr-defined]
    assert number in question
    assert "spends money" in question


@pytest.mark.parametrize(
    ("action", "content", "status"),
    [("decline", None, "declined"), ("cancel", None, "cancelled"), ("accept", {"confirm": False}, "declined")],
)
async def test_declining_or_cancelling_the_elicitation_buys_nothing_and_says_so(
    make_server: ServerFactory,
    api: AnyreachClient,
    sandbox: Sandbox,
    era: str,
    action: str,
    content: dict[str, Any] | None,
    status: str,
) -> None:
    number = await _offer(api, sandbox)
    async with connect(make_server(), era, elicitation_callback=answering(action, content)) as client:
        result = await client.call_tool("purchase_phone_number", {"phone_number": number})
    assert not result.is_error
    assert (result.structured_content or {})["status"] == status
    assert "nothing changed" in (result.structured_content or {})["message"]
    assert not await in_directory(api, number)


async def test_an_expired_token_is_refused_and_nothing_is_deleted(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    now = [time.time()]
    async with connect(make_server(clock=lambda: now[0]), era) as client:
        preview = await client.call_tool("delete_phone_number", {"phone_number": number})
        now[0] += 301
        token = (preview.structured_content or {})["confirmation_token"]
        late = await client.call_tool("delete_phone_number", {"phone_number": number, "confirmation_token": token})
    assert late.is_error
    assert "expired" in late.content[0].text  # type: ignore[union-attr]
    assert await in_directory(api, number)


def _tamper(token: str, **changes: Any) -> str:
    prefix, payload, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).rstrip(b"=").decode()
    return f"{prefix}.{forged}.{mac}"


@pytest.mark.parametrize("forge", [lambda t: _tamper(t, e=4102444800), lambda t: t[:-4] + "AAAA", lambda t: "ct1.x.y"])
async def test_an_altered_token_is_refused_and_nothing_is_deleted(
    make_server: ServerFactory, api: AnyreachClient, era: str, forge: Any
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    async with connect(make_server(), era) as client:
        preview = await client.call_tool("delete_phone_number", {"phone_number": number})
        token = forge((preview.structured_content or {})["confirmation_token"])
        forged = await client.call_tool("delete_phone_number", {"phone_number": number, "confirmation_token": token})
    assert forged.is_error
    assert "not valid" in forged.content[0].text  # type: ignore[union-attr]
    assert await in_directory(api, number)


async def test_a_token_for_other_arguments_is_refused(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    first, second = (await api.phone_numbers.list(limit=2)).items
    async with connect(make_server(), era) as client:
        preview = await client.call_tool("delete_phone_number", {"phone_number": first.phone_number})
        token = (preview.structured_content or {})["confirmation_token"]
        other = await client.call_tool(
            "delete_phone_number", {"phone_number": second.phone_number, "confirmation_token": token}
        )
    assert other.is_error
    assert await in_directory(api, first.phone_number)
    assert await in_directory(api, second.phone_number)


async def test_a_token_is_refused_when_the_number_changed_after_the_preview(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0]
    async with connect(make_server(), era) as client:
        preview = await client.call_tool("delete_phone_number", {"phone_number": number.phone_number})
        await api.phone_numbers.update(number.phone_number, outbound_shareable=not number.outbound_shareable)
        token = (preview.structured_content or {})["confirmation_token"]
        stale = await client.call_tool(
            "delete_phone_number", {"phone_number": number.phone_number, "confirmation_token": token}
        )
    assert stale.is_error
    assert "changed" in stale.content[0].text  # type: ignore[union-attr]
    assert await in_directory(api, number.phone_number)


async def test_a_token_from_another_server_secret_is_refused(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    async with connect(make_server(confirm_secret="first-replica-secret-0123456789abcdef"), era) as first:
        preview = await first.call_tool("delete_phone_number", {"phone_number": number})
    token = (preview.structured_content or {})["confirmation_token"]
    async with connect(make_server(confirm_secret="second-replica-secret-0123456789abcdef"), era) as second:
        refused = await second.call_tool("delete_phone_number", {"phone_number": number, "confirmation_token": token})
    assert refused.is_error
    assert await in_directory(api, number)


async def test_replicas_sharing_the_secret_accept_each_others_tokens_once(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    replica = {"confirm_secret": "replicas-share-this-secret-0123456789abcdef", "stateless": True}
    async with connect(make_server(**replica), era) as first:
        preview = await first.call_tool("delete_phone_number", {"phone_number": number})
    token = (preview.structured_content or {})["confirmation_token"]
    arguments = {"phone_number": number, "confirmation_token": token}
    async with connect(make_server(**replica), era) as second:
        done = await second.call_tool("delete_phone_number", arguments)
    async with connect(make_server(**replica), era) as third:
        replay = await third.call_tool("delete_phone_number", arguments)
    assert (done.structured_content or {})["status"] == "done"
    assert not await in_directory(api, number)
    assert (replay.structured_content or {})["repeat"] is True, "answered from the first use, not run again"
    assert sandbox.app.state.request_counts["DELETE"] == 1


async def test_the_spend_cap_stops_purchases_beyond_the_limit(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code="212")
    async with connect(make_server(max_purchases=1, no_confirm=True), era) as client:
        first = await client.call_tool("purchase_phone_number", {"phone_number": offers[0].phone_number})
        second = await client.call_tool("purchase_phone_number", {"phone_number": offers[1].phone_number})
    assert (first.structured_content or {})["status"] == "done"
    assert second.is_error
    assert "purchase limit" in second.content[0].text  # type: ignore[union-attr]
    assert not await in_directory(api, offers[1].phone_number)


async def test_a_number_no_search_offers_cannot_be_bought(make_server: ServerFactory, era: str) -> None:
    async with connect(make_server(no_confirm=True), era) as client:
        result = await client.call_tool("purchase_phone_number", {"phone_number": "+14155550100"})
    assert result.is_error
    assert "search_available_numbers" in result.content[0].text  # type: ignore[union-attr]


async def test_no_confirm_runs_gated_calls_at_once_and_audits_them(
    make_server: ServerFactory, api: AnyreachClient, era: str, tmp_path: Any
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    log = tmp_path / "audit.jsonl"
    async with connect(make_server(no_confirm=True, audit_log=log), era) as client:
        result = await client.call_tool("delete_phone_number", {"phone_number": number})
    assert (result.structured_content or {})["status"] == "done"
    assert not await in_directory(api, number)
    intent, entry = [json.loads(line) for line in log.read_text().splitlines()]
    assert intent["outcome"] == "attempted"
    assert entry["tool"] == "delete_phone_number"
    assert entry["outcome"] == "done"
    assert entry["confirmation"] == "no_confirm"


async def test_replicas_sharing_a_token_store_never_run_a_token_twice_even_when_the_state_looks_the_same_again(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str, tmp_path: Any
) -> None:
    number = await _offer(api, sandbox)
    shared = {
        "confirm_secret": "replicas-share-this-secret-0123456789abcdef",
        "token_store": tmp_path / "used-tokens.db",
        "stateless": True,
    }
    async with connect(make_server(**shared), era) as first:
        preview = await first.call_tool("purchase_phone_number", {"phone_number": number})
    arguments = {"phone_number": number, "confirmation_token": (preview.structured_content or {})["confirmation_token"]}
    async with connect(make_server(**shared), era) as second:
        done = await second.call_tool("purchase_phone_number", arguments)
    await api.phone_numbers.delete(number)  # released: on offer again, exactly as at preview time
    async with connect(make_server(**shared), era) as third:
        replay = await third.call_tool("purchase_phone_number", arguments)
    assert (done.structured_content or {})["status"] == "done"
    assert (replay.structured_content or {})["repeat"] is True, "answered from the first purchase"
    assert sandbox.app.state.request_counts["POST"] == 1
    assert not await in_directory(api, number)


def _changing_the_number_first(api: AnyreachClient, number: str) -> Any:
    """An elicitation callback whose human takes long enough for the number to change before the first yes."""
    asked: list[str] = []

    async def callback(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        if len(asked) == 1:
            current = await api.phone_numbers.get(number)
            await api.phone_numbers.update(number, outbound_shareable=not current.outbound_shareable)
        return ElicitResult(action="accept", content={"confirm": True})

    callback.asked = asked  # type: ignore[attr-defined]
    return callback


async def test_a_yes_given_to_a_state_that_changed_meanwhile_deletes_nothing_on_a_legacy_connection(
    make_server: ServerFactory, api: AnyreachClient, tmp_path: Path
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    human = _changing_the_number_first(api, number)
    log = tmp_path / "audit.jsonl"
    async with connect(make_server(audit_log=log), "legacy", elicitation_callback=human) as client:
        result = await client.call_tool("delete_phone_number", {"phone_number": number})
    assert result.is_error
    assert "changed while the user was deciding" in result.content[0].text  # type: ignore[union-attr]
    assert await in_directory(api, number)
    (line,) = [json.loads(entry) for entry in log.read_text().splitlines()]
    assert (line["tool"], line["arguments"], line["outcome"]) == (
        "delete_phone_number",
        {"phone_number": number},
        "refused: state changed before the answer",
    )


async def test_a_confirmed_write_that_fails_says_whether_its_token_is_spent(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    """After a token's failed write the model must preview again; after a human's yes there is no token."""
    first, second = [n.phone_number for n in (await api.phone_numbers.list(limit=2)).items]
    refusing = refusing_deletes_of(sandbox, first, second)
    async with connect(make_server(client=refusing), era) as client:
        token = (await call(client, "delete_phone_number", {"phone_number": first})).structured_content or {}
        arguments = {"phone_number": first, "confirmation_token": token["confirmation_token"]}
        with_token = await call(client, "delete_phone_number", arguments)
    asked = connect(make_server(client=refusing), era, elicitation_callback=answering("accept", ACCEPT))
    async with asked as client:
        with_a_yes = await call(client, "delete_phone_number", {"phone_number": second})
    await refusing.aclose()
    assert with_token.is_error
    assert with_a_yes.is_error
    assert "The confirmation token is spent: call delete_phone_number again without it" in texts(with_token)
    assert "token" not in texts(with_a_yes)
    assert await in_directory(api, first)
    assert await in_directory(api, second)


async def test_a_write_made_without_asking_reports_everything_its_preview_would_have_shown(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox
) -> None:
    """With --no-confirm nobody saw a preview, so the outcome carries all of it, not only its headline."""
    on_byoc = (await api.phone_numbers.list(trunk_id=sandbox.seed.demo.byoc_trunk_id, limit=2)).items
    arguments = {"phone_numbers": [number.phone_number for number in on_byoc]}
    async with connect(make_server(), "legacy") as client:
        preview = str((await call(client, "delete_phone_numbers", arguments)).structured_content["message"])
    async with connect(make_server(no_confirm=True), "legacy") as client:
        done = str((await call(client, "delete_phone_numbers", arguments)).structured_content["message"])
    shown = preview.partition("\nNothing has changed yet")[0].splitlines()
    assert len(shown) > 1
    assert all(line in done for line in shown[1:]), (shown, done)


async def test_a_modern_client_is_asked_again_when_the_state_changed_before_its_answer(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    human = _changing_the_number_first(api, number)
    async with connect(make_server(), "auto", elicitation_callback=human) as client:
        result = await client.call_tool("delete_phone_number", {"phone_number": number})
    first, second = human.asked  # type: ignore[attr-defined]
    assert first != second
    assert (result.structured_content or {})["status"] == "done"
    assert not await in_directory(api, number)


async def test_a_token_from_a_server_of_another_organization_is_refused_even_with_the_same_secret(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    async with sandbox_api(sandbox, sandbox.seed.other.api_key) as other_api:
        async with connect(make_server(confirm_secret="replicas-share-this-secret-0123456789abcdef"), era) as demo:
            preview = await demo.call_tool("create_inbound_routing_config", {"workflow_id": "wf_foreign"})
        token = (preview.structured_content or {})["confirmation_token"]
        arguments = {"workflow_id": "wf_foreign", "confirmation_token": token}
        async with connect(
            make_server(client=other_api, confirm_secret="replicas-share-this-secret-0123456789abcdef"), era
        ) as other:
            refused = await other.call_tool("create_inbound_routing_config", arguments)
        assert refused.is_error
        assert "another account" in refused.content[0].text  # type: ignore[union-attr]
        assert await other_api.inbound_routing.get() is None
    assert await api.inbound_routing.get() is None


async def test_concurrent_confirmations_cannot_pass_the_spend_cap(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    offers = await api.managed_accounts.search_numbers(sandbox.seed.demo.managed_account_id, area_code="312")
    numbers = [offer.phone_number for offer in offers[:2]]
    async with connect(make_server(max_purchases=1), era) as client:
        tokens = {}
        for number in numbers:
            preview = await client.call_tool("purchase_phone_number", {"phone_number": number})
            tokens[number] = (preview.structured_content or {})["confirmation_token"]

        async def confirm(number: str) -> None:
            await client.call_tool(
                "purchase_phone_number", {"phone_number": number, "confirmation_token": tokens[number]}
            )

        async with anyio.create_task_group() as group:
            for number in numbers:
                group.start_soon(confirm, number)
    assert [await in_directory(api, number) for number in numbers].count(True) == 1


@pytest.mark.parametrize(("era", "status"), [("legacy", "confirmation_required"), ("auto", "declined")])
async def test_a_stateless_server_asks_modern_clients_and_gives_legacy_ones_a_token_instead(
    make_server: ServerFactory, api: AnyreachClient, era: str, status: str
) -> None:
    number = (await api.phone_numbers.list(limit=1)).items[0].phone_number
    async with connect(make_server(stateless=True), era, elicitation_callback=answering("decline")) as client:
        result = await client.call_tool("delete_phone_number", {"phone_number": number})
    assert (result.structured_content or {})["status"] == status
    assert await in_directory(api, number)
