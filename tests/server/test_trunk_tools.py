"""The trunks toolset through the real server and the real sandbox, in both protocol eras."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp_types import CallToolResult
from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient, InboundConfig, NotFoundError, OutboundConfig, Trunk
from mcp_anyreach.sandbox import Sandbox
from tests.server.conftest import ACCEPT, ServerFactory, answering, call, connect, questions

PASSWORD_IN = "in-Hunter2-Secret-9931"
PASSWORD_OUT = "out-Hunter2-Secret-9931"
KEPT_PASSWORDS = {"inbound_password": "pw-kept-1", "outbound_password": "pw-kept-2"}


def text_of(result: CallToolResult) -> str:
    """Everything a model sees of a result: its text blocks and its structured content."""
    texts = [getattr(block, "text", "") for block in result.content]
    return "\n".join([*texts, json.dumps(result.structured_content)])


def byoc_arguments(name: str = "Warehouse PBX") -> dict[str, Any]:
    return {
        "name": name,
        "inbound": {
            "allowed_addresses": ["192.0.2.7", "198.51.100.0/24"],
            "allowed_numbers": ["+14155550123"],
            "auth_username": "warehouse-in",
            "auth_password": PASSWORD_IN,
            "media_encryption": "ALLOW",
        },
        "outbound": {
            "address": "sip.warehouse.example.com:5060",
            "auth_username": "warehouse-out",
            "auth_password": PASSWORD_OUT,
            "transport": "TCP",
            "headers": {"X-Site": "north"},
        },
    }


async def all_trunks(api: AnyreachClient) -> list[Trunk]:
    return [trunk async for trunk in api.trunks.iter()]


async def empty_byoc_trunk(api: AnyreachClient, name: str = "Spare PBX") -> Trunk:
    return await api.trunks.create(
        name=name,
        inbound_config=InboundConfig(allowed_addresses=["192.0.2.8"]),
        outbound_config=OutboundConfig(
            address="sip.spare.example.com", auth_username="spare", auth_password=SecretStr("spare-Secret-1")
        ),
    )


async def test_list_trunks_filters_by_name_and_walks_every_trunk_page_by_page(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    await empty_byoc_trunk(api, "Spare PBX one")
    await empty_byoc_trunk(api, "Spare PBX two")
    expected = [trunk.id for trunk in await all_trunks(api)]
    seen: list[str] = []
    async with connect(make_server(), era) as client:
        filtered = await call(client, "list_trunks", {"name": "Spare"})
        cursor: str | None = None
        for _ in range(len(expected) + 1):
            page = await call(client, "list_trunks", {"limit": 1, **({"cursor": cursor} if cursor else {})})
            assert not page.is_error, page.content
            assert page.structured_content is not None
            assert len(page.structured_content["items"]) <= 1
            seen += [item["id"] for item in page.structured_content["items"]]
            cursor = page.structured_content["next_cursor"]
            if cursor is None:
                break

    assert filtered.structured_content is not None
    assert sorted(item["name"] for item in filtered.structured_content["items"]) == ["Spare PBX one", "Spare PBX two"]
    assert seen == expected
    assert len(expected) == 4


async def test_get_trunk_shows_both_configs_and_that_passwords_are_set_but_never_the_passwords(
    make_server: ServerFactory, sandbox: Sandbox, era: str
) -> None:
    byoc_id = sandbox.seed.demo.byoc_trunk_id
    async with connect(make_server(), era) as client:
        byoc = await call(client, "get_trunk", {"trunk_id": byoc_id})
        managed = await call(client, "get_trunk", {"trunk_id": sandbox.seed.demo.managed_trunk_ids[0]})

    assert not byoc.is_error, byoc.content
    trunk = byoc.structured_content
    assert trunk is not None
    assert (trunk["id"], trunk["kind"]) == (byoc_id, "byoc")
    assert trunk["inbound"]["allowed_addresses"] == ["203.0.113.10/32", "198.51.100.0/24"]
    assert trunk["inbound"]["password_set"] is True
    assert trunk["outbound"]["address"] == "pbx.demo-telephony.example.com:5061"
    assert trunk["outbound"]["password_set"] is True
    assert "auth_password" not in text_of(byoc)
    assert managed.structured_content is not None
    assert managed.structured_content["kind"] == "managed"


async def test_get_trunk_of_an_unknown_id_is_a_tool_error_pointing_at_list_trunks(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        result = await call(client, "get_trunk", {"trunk_id": "00000000-0000-0000-0000-000000000000"})

    assert result.is_error
    assert "list_trunks" in text_of(result)


async def test_create_trunk_makes_a_byoc_trunk_with_inbound_and_outbound_and_never_echoes_a_password(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(client, "create_trunk", byoc_arguments())

    assert not result.is_error, result.content
    assert PASSWORD_IN not in text_of(result)
    assert PASSWORD_OUT not in text_of(result)
    (question,) = questions(callback)
    assert "Warehouse PBX" in question
    assert PASSWORD_IN not in question
    assert PASSWORD_OUT not in question
    assert result.structured_content is not None
    assert result.structured_content["status"] == "done"
    created = result.structured_content["result"]
    stored = await api.trunks.get(created["id"])
    assert stored.name == "Warehouse PBX"
    assert stored.managed_account_id is None
    assert stored.inbound_config is not None
    assert stored.outbound_config is not None
    assert stored.inbound_config.allowed_addresses == ["192.0.2.7/32", "198.51.100.0/24"]
    assert stored.inbound_config.auth_password_set is True
    assert stored.outbound_config.address == "sip.warehouse.example.com:5060"
    assert stored.outbound_config.transport == "TCP"
    assert stored.outbound_config.auth_password_set is True
    assert created["outbound"]["password_set"] is True


async def test_update_trunk_changes_the_trunk_once_the_user_accepts(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    byoc_id = sandbox.seed.demo.byoc_trunk_id
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(
            client,
            "update_trunk",
            {"trunk_id": byoc_id, "name": "Renamed PBX", "remove": "inbound", "outbound_password": "pw-kept-1"},
        )

    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["status"] == "done"
    (question,) = questions(callback)
    assert "Renamed PBX" in question
    trunk = await api.trunks.get(byoc_id)
    assert trunk.name == "Renamed PBX"
    assert trunk.inbound_config is None
    assert trunk.outbound_config is not None


async def test_update_trunk_declined_by_the_user_changes_nothing(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    byoc_id = sandbox.seed.demo.byoc_trunk_id
    before = await api.trunks.get(byoc_id)
    async with connect(make_server(), era, elicitation_callback=answering("decline")) as client:
        renamed = {"trunk_id": byoc_id, "name": "Renamed PBX", **KEPT_PASSWORDS}
        result = await call(client, "update_trunk", renamed)

    assert result.structured_content is not None
    assert result.structured_content["status"] == "declined"
    assert (await api.trunks.get(byoc_id)) == before


async def test_update_trunk_without_elicitation_returns_a_token_changes_nothing_and_the_token_then_applies_it(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    byoc_id = sandbox.seed.demo.byoc_trunk_id
    arguments = {"trunk_id": byoc_id, "outbound": byoc_arguments()["outbound"], "inbound_password": "pw-kept-1"}
    before = await api.trunks.get(byoc_id)
    async with connect(make_server(), era) as client:
        preview = await call(client, "update_trunk", arguments)
        unchanged = await api.trunks.get(byoc_id)
        assert preview.structured_content is not None
        token = preview.structured_content["confirmation_token"]
        confirmed = await call(client, "update_trunk", {**arguments, "confirmation_token": token})
        replayed = await call(client, "update_trunk", {**arguments, "confirmation_token": token})

    assert not preview.is_error, preview.content
    assert preview.structured_content["status"] == "confirmation_required"
    assert token
    assert PASSWORD_OUT not in text_of(preview)
    assert unchanged == before
    assert confirmed.structured_content is not None
    assert confirmed.structured_content["status"] == "done"
    assert PASSWORD_OUT not in text_of(confirmed)
    outbound = (await api.trunks.get(byoc_id)).outbound_config
    assert outbound is not None
    assert (outbound.address, outbound.transport) == ("sip.warehouse.example.com:5060", "TCP")
    # The same call again (a client that lost the answer) is told the first outcome and sends nothing.
    assert (replayed.structured_content or {})["repeat"] is True
    assert PASSWORD_OUT not in text_of(replayed)
    assert sandbox.app.state.request_counts["PUT"] == 1


@pytest.mark.parametrize("tool", ["update_trunk", "delete_trunk"])
@pytest.mark.parametrize("can_elicit", [True, False], ids=["eliciting", "not-eliciting"])
async def test_a_managed_trunk_cannot_be_updated_or_deleted_and_the_error_explains_managed_trunks(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str, tool: str, can_elicit: bool
) -> None:
    managed_id = sandbox.seed.demo.managed_trunk_ids[0]
    before = await api.trunks.get(managed_id)
    arguments = {"trunk_id": managed_id, **({"name": "Mine now"} if tool == "update_trunk" else {})}
    callback = answering("accept", ACCEPT)
    options = {"elicitation_callback": callback} if can_elicit else {}
    async with connect(make_server(), era, **options) as client:
        result = await call(client, tool, arguments)

    assert result.is_error
    assert "managed" in text_of(result).lower()
    assert questions(callback) == []
    assert (await api.trunks.get(managed_id)) == before


async def test_a_trunk_that_still_carries_numbers_cannot_be_deleted(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    byoc_id = sandbox.seed.demo.byoc_trunk_id
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(client, "delete_trunk", {"trunk_id": byoc_id})

    assert result.is_error
    assert "number" in text_of(result).lower()
    assert questions(callback) == []
    assert (await api.trunks.get(byoc_id)).id == byoc_id
    assert len((await api.phone_numbers.list(trunk_id=byoc_id)).items) == 3


async def test_an_empty_byoc_trunk_is_deleted_once_the_user_confirms(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    spare = await empty_byoc_trunk(api)
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(client, "delete_trunk", {"trunk_id": spare.id})

    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["status"] == "done"
    (question,) = questions(callback)
    assert "Spare PBX" in question
    with pytest.raises(NotFoundError):
        await api.trunks.get(spare.id)


async def test_an_empty_byoc_trunk_is_deleted_only_when_the_confirmation_token_comes_back(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    spare = await empty_byoc_trunk(api)
    async with connect(make_server(), era) as client:
        preview = await call(client, "delete_trunk", {"trunk_id": spare.id})
        still_there = await api.trunks.get(spare.id)
        assert preview.structured_content is not None
        token = preview.structured_content["confirmation_token"]
        confirmed = await call(client, "delete_trunk", {"trunk_id": spare.id, "confirmation_token": token})

    assert preview.structured_content["status"] == "confirmation_required"
    assert still_there.id == spare.id
    assert confirmed.structured_content is not None
    assert confirmed.structured_content["status"] == "done"
    with pytest.raises(NotFoundError):
        await api.trunks.get(spare.id)


INVALID_CREATIONS: dict[str, dict[str, Any]] = {
    "bad-cidr": {"name": "Bad", "inbound": {"allowed_addresses": ["10.0.0.0/33"]}},
    "not-an-address": {"name": "Bad", "inbound": {"allowed_addresses": ["pbx.example.com"]}},
    "sip-prefix": {
        "name": "Bad",
        "outbound": {"address": "sip:pbx.example.com", "auth_username": "u", "auth_password": "p-Secret-1"},
    },
    "sip-uri-injection": {
        "name": "Bad",
        "outbound": {
            "address": "sip:attacker@evil.example.com;transport=tcp",
            "auth_username": "u",
            "auth_password": "p-Secret-1",
        },
    },
    "header-injection-in-address": {
        "name": "Bad",
        "outbound": {"address": "pbx.example.com\r\nX-Evil: 1", "auth_username": "u", "auth_password": "p-Secret-1"},
    },
    "unknown-field": {"name": "Bad", "inbound": {"allowed_addresses": [], "callback_url": "http://evil"}},
    "empty-name": {"name": ""},
}


@pytest.mark.parametrize("arguments", INVALID_CREATIONS.values(), ids=INVALID_CREATIONS.keys())
async def test_invalid_trunk_settings_are_tool_errors_and_create_nothing(
    make_server: ServerFactory, api: AnyreachClient, era: str, arguments: dict[str, Any]
) -> None:
    before = await all_trunks(api)
    async with connect(make_server(), era) as client:
        result = await call(client, "create_trunk", arguments)

    assert result.is_error
    assert "p-Secret-1" not in text_of(result)
    assert (await all_trunks(api)) == before


@pytest.mark.parametrize("key", ["sip-prefix", "sip-uri-injection", "header-injection-in-address"])
async def test_a_malformed_outbound_address_is_refused_by_the_tool_before_anything_is_sent(
    make_server: ServerFactory, sandbox: Sandbox, era: str, key: str
) -> None:
    """The real service may accept what the sandbox refuses; the tool's own schema must stop it."""
    counts = sandbox.app.state.request_counts
    async with connect(make_server(), era) as client:
        posts_before = counts["POST"]
        result = await call(client, "create_trunk", INVALID_CREATIONS[key])

    assert result.is_error
    assert counts["POST"] == posts_before


@pytest.mark.parametrize(
    "change",
    [
        {"inbound": {"allowed_addresses": ["300.1.2.3"]}},
        {"outbound": {"address": "sip:pbx.example.com", "auth_username": "u", "auth_password": "p-Secret-1"}},
        {"name": "Both", "inbound": {}, "remove": "inbound"},
        {},
    ],
    ids=["bad-address", "sip-prefix", "replace-and-remove", "nothing-to-change"],
)
async def test_invalid_trunk_updates_are_tool_errors_and_change_nothing_even_when_accepted(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str, change: dict[str, Any]
) -> None:
    byoc_id = sandbox.seed.demo.byoc_trunk_id
    before = await api.trunks.get(byoc_id)
    async with connect(make_server(), era, elicitation_callback=answering("accept", ACCEPT)) as client:
        result = await call(client, "update_trunk", {"trunk_id": byoc_id, **change})

    assert result.is_error
    assert (await api.trunks.get(byoc_id)) == before


async def test_the_update_confirmation_warns_when_a_trunk_would_lose_its_protection(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    inbound = InboundConfig(allowed_addresses=["203.0.113.0/24"], auth_username="pbx", auth_password=SecretStr("pw-9"))
    trunk = await api.trunks.create(name="Guarded", inbound_config=inbound)
    human = answering("decline")
    async with connect(make_server(), era, elicitation_callback=human) as client:
        opened = {"allowed_addresses": ["0.0.0.0/0"], "auth_username": None}
        await call(client, "update_trunk", {"trunk_id": trunk.id, "inbound": opened})
    [question] = human.asked  # type: ignore[attr-defined]
    assert "allowed_addresses: +0.0.0.0/0 -203.0.113.0/24" in question
    assert "password: REMOVED" in question
    assert "WARNING" in question
    assert (await api.trunks.get(trunk.id)).inbound_config.allowed_addresses == ["203.0.113.0/24"]  # type: ignore[union-attr]
