"""update_trunk merges field by field within a side, and a password can be rotated on its own (issue 22, 1-2).

Driven as a model would through the in-memory client, on the real sandbox, in both protocol eras.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mcp_types import CallToolResult
from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient, InboundConfig, OutboundConfig, Trunk
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ACCEPT, ServerFactory, answering, call, connect, questions

IN_SECRET = "in-kept-Qz81-unique"
OUT_SECRET = "out-kept-Wm27-unique"
ROTATED = "in-rotated-Lp64-unique"


def text_of(result: CallToolResult) -> str:
    texts = [getattr(block, "text", "") for block in result.content]
    return "\n".join([*texts, json.dumps(result.structured_content)])


def status(result: CallToolResult) -> str:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return str(result.structured_content["status"])


async def guarded_trunk(api: AnyreachClient, *, outbound: bool = True) -> Trunk:
    """A trunk whose inbound side is authenticated, address-listed, encrypted and noise-cancelled."""
    return await api.trunks.create(
        name="Guarded PBX",
        inbound_config=InboundConfig(
            allowed_addresses=["203.0.113.0/24"],
            allowed_numbers=["+14155550123"],
            auth_username="pbx-in",
            auth_password=SecretStr(IN_SECRET),
            media_encryption="ALLOW",
            enable_noise_cancellation=True,
        ),
        outbound_config=OutboundConfig(
            address="sip.carrier.example.com:5061",
            auth_username="pbx-out",
            auth_password=SecretStr(OUT_SECRET),
            transport="TCP",
            media_encryption="REQUIRE",
            headers={"X-Site": "north"},
        )
        if outbound
        else None,
    )


def stored_password(sandbox: Sandbox, trunk_id: str, side: str) -> str | None:
    record = sandbox.store.trunks.get(sandbox.seed.demo.org_id, trunk_id)
    config = getattr(record, f"{side}_config")
    return None if config is None or config.auth_password is None else config.auth_password.get_secret_value()


# 1. Fields not given keep their values; a list given replaces that list.


async def test_naming_one_inbound_list_keeps_the_sides_authentication_addresses_and_encryption(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    trunk = await guarded_trunk(api)
    human = answering("accept", ACCEPT)
    arguments: dict[str, Any] = {
        "trunk_id": trunk.id,
        "inbound": {"allowed_numbers": ["+14155550124"]},
        "inbound_password": IN_SECRET,
        "outbound_password": OUT_SECRET,
    }
    async with connect(make_server(), era, elicitation_callback=human) as client:
        result = await call(client, "update_trunk", arguments)

    assert status(result) == "done"
    [question] = questions(human)
    assert "inbound allowed_numbers: ++14155550124 -+14155550123" in question
    assert "allowed_addresses" not in question
    assert "media_encryption" not in question
    assert "noise" not in question
    after = await api.trunks.get(trunk.id)
    assert after.inbound_config is not None
    assert after.inbound_config.allowed_numbers == ["+14155550124"]
    assert after.inbound_config.allowed_addresses == ["203.0.113.0/24"]
    assert after.inbound_config.auth_username == "pbx-in"
    assert after.inbound_config.media_encryption == "ALLOW"
    assert after.inbound_config.enable_noise_cancellation is True
    assert after.outbound_config == trunk.outbound_config
    assert stored_password(sandbox, trunk.id, "inbound") == IN_SECRET


async def test_naming_one_outbound_field_changes_that_field_and_keeps_address_headers_and_encryption(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    trunk = await guarded_trunk(api)
    arguments = {"trunk_id": trunk.id, "outbound": {"transport": "TLS"}, **_both_passwords()}
    async with connect(make_server(), era, elicitation_callback=answering("accept", ACCEPT)) as client:
        result = await call(client, "update_trunk", arguments)

    assert status(result) == "done"
    after = await api.trunks.get(trunk.id)
    assert after.outbound_config is not None
    assert after.outbound_config.transport == "TLS"
    assert after.outbound_config.address == "sip.carrier.example.com:5061"
    assert after.outbound_config.media_encryption == "REQUIRE"
    assert after.outbound_config.headers == {"X-Site": "north"}
    assert after.inbound_config == trunk.inbound_config
    assert stored_password(sandbox, trunk.id, "outbound") == OUT_SECRET


async def test_a_partial_inbound_change_without_the_kept_password_is_refused_naming_the_side_and_argument(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    trunk = await guarded_trunk(api, outbound=False)
    human = answering("accept", ACCEPT)
    arguments = {"trunk_id": trunk.id, "inbound": {"allowed_numbers": ["+14155550124"]}}
    async with connect(make_server(), era, elicitation_callback=human) as client:
        result = await call(client, "update_trunk", arguments)

    assert result.is_error
    assert "keeps SIP authentication on the inbound side" in text_of(result)
    assert "give inbound_password" in text_of(result)
    assert questions(human) == []
    assert (await api.trunks.get(trunk.id)) == trunk


# 1. Clearing is explicit: null for an optional field; null on a field the API requires is refused.


async def test_null_auth_username_clears_inbound_authentication_and_keeps_the_rest_of_the_side(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    trunk = await guarded_trunk(api, outbound=False)
    human = answering("accept", ACCEPT)
    arguments = {"trunk_id": trunk.id, "inbound": {"auth_username": None}}
    async with connect(make_server(), era, elicitation_callback=human) as client:
        result = await call(client, "update_trunk", arguments)

    assert status(result) == "done"
    [question] = questions(human)
    assert "inbound auth_username: pbx-in -> none" in question
    assert "inbound password: REMOVED" in question
    after = (await api.trunks.get(trunk.id)).inbound_config
    assert after is not None
    assert after.auth_username is None
    assert after.password_set is False
    assert after.allowed_addresses == ["203.0.113.0/24"]
    assert (after.media_encryption, after.enable_noise_cancellation) == ("ALLOW", True)


@pytest.mark.parametrize(
    ("side", "field"),
    [("outbound", "address"), ("outbound", "auth_username"), ("inbound", "media_encryption")],
)
async def test_null_on_a_field_the_api_requires_is_refused_and_says_how_to_keep_it(
    make_server: ServerFactory, api: AnyreachClient, era: str, side: str, field: str
) -> None:
    trunk = await guarded_trunk(api)
    human = answering("accept", ACCEPT)
    arguments = {"trunk_id": trunk.id, side: {field: None}, **_both_passwords()}
    async with connect(make_server(), era, elicitation_callback=human) as client:
        result = await call(client, "update_trunk", arguments)

    assert result.is_error
    assert f"{field} cannot be null: the API requires it; leave it out to keep its value" in text_of(result)
    assert questions(human) == []
    assert (await api.trunks.get(trunk.id)) == trunk


async def test_a_new_outbound_side_given_in_part_is_refused_naming_what_the_api_needs(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    trunk = await api.trunks.create(name="Inbound only")
    human = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=human) as client:
        updated = await call(client, "update_trunk", {"trunk_id": trunk.id, "outbound": {"transport": "TLS"}})
        created = await call(client, "create_trunk", {"name": "Half", "outbound": {"address": "sip.example.com"}})

    assert updated.is_error
    assert "has no outbound config yet" in text_of(updated)
    assert "outbound.address, outbound.auth_username, outbound.auth_password" in text_of(updated)
    assert created.is_error
    assert "give outbound.auth_username, outbound.auth_password too" in text_of(created)
    assert questions(human) == []
    assert (await api.trunks.get(trunk.id)) == trunk


# 2. Passwords are described and rotatable; the preview says which is sent again and which replaced.


async def test_the_password_arguments_say_what_they_are_for_and_that_the_api_never_returns_them(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    properties = tools["update_trunk"].input_schema["properties"]
    for argument in ("inbound_password", "outbound_password"):
        description = properties[argument]["description"]
        assert "SIP auth password" in description
        assert "never returned" in description
        assert "rotate" in description


async def test_rotating_one_password_is_one_call_that_changes_nothing_else_and_never_shows_the_secret(
    make_server: ServerFactory,
    api: AnyreachClient,
    sandbox: Sandbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    era: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    trunk = await guarded_trunk(api, outbound=False)
    audit = tmp_path / "audit.jsonl"
    human = answering("accept", ACCEPT)
    async with connect(make_server(audit_log=audit), era, elicitation_callback=human) as client:
        result = await call(client, "update_trunk", {"trunk_id": trunk.id, "inbound_password": ROTATED})

    assert status(result) == "done"
    [question] = questions(human)
    assert "inbound password: replaced by the one given; nothing else changes" in question
    assert stored_password(sandbox, trunk.id, "inbound") == ROTATED
    after = await api.trunks.get(trunk.id)
    assert (after.name, after.inbound_config, after.outbound_config) == (trunk.name, trunk.inbound_config, None)
    for seen in (question, text_of(result), audit.read_text(), caplog.text):
        assert ROTATED not in seen
        assert IN_SECRET not in seen


async def test_rotating_a_password_without_elicitation_previews_then_rotates_with_the_token(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    trunk = await guarded_trunk(api, outbound=False)
    arguments = {"trunk_id": trunk.id, "inbound_password": ROTATED}
    async with connect(make_server(), era) as client:
        preview = await call(client, "update_trunk", arguments)
        assert preview.structured_content is not None
        token = preview.structured_content["confirmation_token"]
        unchanged = stored_password(sandbox, trunk.id, "inbound")
        done = await call(client, "update_trunk", {**arguments, "confirmation_token": token})

    assert status(preview) == "confirmation_required"
    assert "inbound password: replaced by the one given; nothing else changes" in text_of(preview)
    assert unchanged == IN_SECRET
    assert status(done) == "done"
    assert stored_password(sandbox, trunk.id, "inbound") == ROTATED
    assert ROTATED not in text_of(preview) + text_of(done)


async def test_the_preview_says_which_password_is_replaced_and_which_is_sent_again(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    trunk = await guarded_trunk(api)
    human = answering("accept", ACCEPT)
    arguments = {"trunk_id": trunk.id, "inbound": {"auth_password": ROTATED}, "outbound_password": OUT_SECRET}
    async with connect(make_server(), era, elicitation_callback=human) as client:
        result = await call(client, "update_trunk", arguments)

    assert status(result) == "done"
    [question] = questions(human)
    assert "inbound password: replaced" in question
    assert "outbound password: sent again as given" in question
    assert "allowed_addresses" not in question
    assert ROTATED not in question + text_of(result)
    assert OUT_SECRET not in question + text_of(result)
    assert stored_password(sandbox, trunk.id, "inbound") == ROTATED
    assert stored_password(sandbox, trunk.id, "outbound") == OUT_SECRET
    after = await api.trunks.get(trunk.id)
    assert after.inbound_config == trunk.inbound_config


def _both_passwords() -> dict[str, str]:
    return {"inbound_password": IN_SECRET, "outbound_password": OUT_SECRET}


# 1. The same rule for trunk sides in desired-state documents.


def document(inbound: dict[str, Any]) -> dict[str, Any]:
    return {"trunks": {"items": [{"name": "Guarded PBX", "inbound": inbound}]}}


async def test_a_document_naming_one_inbound_list_plans_only_that_list_and_applying_keeps_the_rest(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANYREACH_SIP_GUARDED", IN_SECRET)
    trunk = await guarded_trunk(api, outbound=False)
    wanted = document({"allowed_numbers": ["+14155550124"], "auth_password": {"env": "ANYREACH_SIP_GUARDED"}})
    async with connect(make_server(no_confirm=True), era) as client:
        planned = await call(client, "plan_changes", {"desired_state": wanted})
        assert planned.structured_content is not None, planned.content
        plan = planned.structured_content
        applied = await call(client, "apply_changes", {"plan_id": plan["plan_id"]})

    [step] = plan["steps"]
    assert step["action"] == "update_trunk"
    assert "allowed_numbers" in step["detail"]
    assert "media_encryption" not in step["detail"]
    assert "enable_noise_cancellation" not in step["detail"]
    assert "auth_username" not in step["detail"]
    assert status(applied) == "done"
    after = (await api.trunks.get(trunk.id)).inbound_config
    assert after is not None
    assert after.allowed_numbers == ["+14155550124"]
    assert (after.media_encryption, after.enable_noise_cancellation) == ("ALLOW", True)
    assert (after.auth_username, after.allowed_addresses) == ("pbx-in", ["203.0.113.0/24"])
    assert stored_password(sandbox, trunk.id, "inbound") == IN_SECRET


async def test_a_document_changing_an_authenticated_side_without_its_password_is_refused_at_planning(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    await guarded_trunk(api)
    async with connect(make_server(), era) as client:
        result = await call(client, "plan_changes", {"desired_state": document({"allowed_numbers": []})})

    assert result.is_error
    assert "keeps SIP authentication on the inbound and outbound side" in text_of(result)
    assert "add auth_password: {env: ANYREACH_SIP_NAME} under inbound and outbound" in text_of(result)


async def test_a_document_clearing_an_optional_field_with_null_plans_that_and_nothing_else(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    await guarded_trunk(api, outbound=False)
    async with connect(make_server(), era) as client:
        planned = await call(client, "plan_changes", {"desired_state": document({"auth_username": None})})

    assert planned.structured_content is not None, planned.content
    [step] = planned.structured_content["steps"]
    assert "auth_username pbx-in -> None" in step["detail"]
    assert "media_encryption" not in step["detail"]
    assert "allowed_addresses" not in step["detail"]
