"""Trunks, number purchase, inbound routing and publishing through the client, against the sandbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import SecretStr

from mcp_anyreach.api import (
    UNSET,
    AnyreachClient,
    BadRequestError,
    ConflictError,
    InboundConfig,
    NotFoundError,
    OutboundConfig,
    PasswordRequiredError,
    UnprocessableEntityError,
)
from mcp_anyreach.sandbox import Sandbox

from .conftest import PASSWORD

Connect = Callable[..., AnyreachClient]


@pytest.fixture
def demo(sandbox: Sandbox, connect: Connect) -> AnyreachClient:
    return connect(sandbox.seed.demo.api_key)


def outbound(password: str = PASSWORD) -> OutboundConfig:
    return OutboundConfig(
        address="pbx.example.com:5061", auth_username="anyreach", auth_password=SecretStr(password), transport="TLS"
    )


async def test_trunks_list_get_and_filter_by_name(sandbox: Sandbox, demo: AnyreachClient) -> None:
    seed = sandbox.seed.demo
    trunks = (await demo.trunks.list()).items
    assert {seed.byoc_trunk_id, *seed.managed_trunk_ids} <= {trunk.id for trunk in trunks}
    byoc = await demo.trunks.get(seed.byoc_trunk_id)
    assert byoc.managed_account_id is None
    managed = await demo.trunks.get(seed.managed_trunk_ids[0])
    assert managed.managed_account_id == seed.managed_account_id
    named = (await demo.trunks.list(name=byoc.name.upper())).items
    assert [trunk.id for trunk in named] == [byoc.id]
    paged = [trunk async for trunk in demo.trunks.iter(page_size=1)]
    assert [trunk.id for trunk in paged] == [trunk.id for trunk in trunks]


async def test_trunks_filter_by_time(demo: AnyreachClient) -> None:
    trunks = (await demo.trunks.list()).items
    newest = max(trunk.created_at for trunk in trunks if trunk.created_at is not None)
    assert (await demo.trunks.list(created_after=newest)).items == []
    assert len((await demo.trunks.list(created_before=newest)).items) < len(trunks)
    assert (await demo.trunks.list(updated_after="2000-01-01T00:00:00Z")).items == trunks
    assert (await demo.trunks.list(updated_before="2000-01-01T00:00:00Z")).items == []


async def test_a_trunk_is_created_updated_and_deleted(demo: AnyreachClient) -> None:
    inbound = InboundConfig(allowed_addresses=["203.0.113.0/24"], media_encryption="REQUIRE")
    trunk = await demo.trunks.create(name="Office PBX", inbound_config=inbound, outbound_config=outbound())
    assert trunk.inbound_config is not None
    assert trunk.inbound_config.allowed_addresses == ["203.0.113.0/24"]
    assert trunk.outbound_config is not None
    assert trunk.outbound_config.auth_password is None
    assert trunk.outbound_config.auth_password_set is True
    assert trunk.outbound_config.transport == "TLS"

    # The update sends the whole trunk; the outbound config it keeps needs its write-only password again.
    with pytest.raises(PasswordRequiredError, match="outbound password"):
        await demo.trunks.update(trunk.id, name="Office PBX 2")
    assert (await demo.trunks.get(trunk.id)).name == "Office PBX"
    renamed = await demo.trunks.update(trunk.id, name="Office PBX 2", passwords={"outbound": SecretStr(PASSWORD)})
    assert renamed.name == "Office PBX 2"
    assert renamed.inbound_config == trunk.inbound_config
    assert renamed.outbound_config == trunk.outbound_config
    stripped = await demo.trunks.update(
        trunk.id, inbound_config=None, outbound_config=UNSET, passwords={"outbound": SecretStr(PASSWORD)}
    )
    assert stripped.inbound_config is None
    assert stripped.outbound_config is not None
    assert stripped.outbound_config.auth_password_set is True

    await demo.trunks.delete(trunk.id)
    with pytest.raises(NotFoundError):
        await demo.trunks.get(trunk.id)
    with pytest.raises(NotFoundError):
        await demo.trunks.delete(trunk.id)
    with pytest.raises(NotFoundError):
        await demo.trunks.update(trunk.id, name="gone")


async def test_managed_trunks_refuse_edits_with_bad_request(sandbox: Sandbox, demo: AnyreachClient) -> None:
    managed = sandbox.seed.demo.managed_trunk_ids[0]
    with pytest.raises(BadRequestError, match="managed"):
        await demo.trunks.update(managed, name="mine now")
    with pytest.raises(BadRequestError, match="managed"):
        await demo.trunks.delete(managed)


async def test_a_trunk_with_numbers_cannot_be_deleted(sandbox: Sandbox, demo: AnyreachClient) -> None:
    with pytest.raises(ConflictError):
        await demo.trunks.delete(sandbox.seed.demo.byoc_trunk_id)


async def test_an_invalid_trunk_answers_unprocessable_with_the_field_named(demo: AnyreachClient) -> None:
    with pytest.raises(UnprocessableEntityError) as caught:
        await demo.trunks.create(name="x", outbound_config=OutboundConfig(address="sip:bad address"))
    assert "outbound_config" in caught.value.detail
    with pytest.raises(UnprocessableEntityError):
        await demo.trunks.create(name="", inbound_config=InboundConfig())


async def test_search_then_purchase_creates_a_managed_trunk_and_directory_row(
    sandbox: Sandbox, demo: AnyreachClient
) -> None:
    account = sandbox.seed.demo.managed_account_id
    offers = await demo.managed_accounts.search_numbers(account, area_code="512", limit=3)
    assert 0 < len(offers) <= 3
    assert all(offer.phone_number.startswith("+1512") for offer in offers)
    assert offers[0].capabilities is not None
    toll_free = await demo.managed_accounts.search_numbers(account, phone_number_type="toll_free", limit=2)
    assert {offer.phone_number_type for offer in toll_free} == {"toll_free"}
    canadian = await demo.managed_accounts.search_numbers(account, country_code="CA", in_region="ON", limit=2)
    assert {offer.iso_country for offer in canadian} == {"CA"}

    bought = await demo.managed_accounts.purchase_number(account, phone_number=offers[0].phone_number)
    assert bought.phone_number == offers[0].phone_number
    assert await demo.phone_numbers.get(bought.phone_number) == bought
    trunk = await demo.trunks.get(bought.trunk_id)
    assert trunk.managed_account_id == account
    again = await demo.managed_accounts.search_numbers(account, area_code="512", limit=100)
    assert bought.phone_number not in {offer.phone_number for offer in again}

    with pytest.raises(ConflictError):
        await demo.managed_accounts.purchase_number(account, phone_number=bought.phone_number)
    with pytest.raises(NotFoundError):
        await demo.managed_accounts.purchase_number(account, phone_number="+12125550199")
    with pytest.raises(NotFoundError):
        await demo.managed_accounts.search_numbers("ma_unknown")


async def test_inbound_routing_config_lifecycle(sandbox: Sandbox, demo: AnyreachClient) -> None:
    assert await demo.inbound_routing.get() is None
    with pytest.raises(NotFoundError):
        await demo.inbound_routing.update(enabled=False)
    with pytest.raises(NotFoundError):
        await demo.inbound_routing.delete()

    agent = sandbox.seed.demo.agent_ids[0]
    created = await demo.inbound_routing.create(workflow_id="wf_route", workflow_version=2, fallback_agent_id=agent)
    assert created.enabled
    assert created.workflow_version == 2
    assert created.organization_id == sandbox.seed.demo.org_id
    assert await demo.inbound_routing.get() == created
    with pytest.raises(ConflictError):
        await demo.inbound_routing.create(workflow_definition={"steps": []})

    disabled = await demo.inbound_routing.update(enabled=False)
    assert not disabled.enabled
    assert disabled.workflow_id == "wf_route"
    assert disabled.fallback_agent_id == agent
    inline = await demo.inbound_routing.update(workflow_definition={"steps": [{"agent_id": agent}]})
    assert inline.workflow_definition == {"steps": [{"agent_id": agent}]}
    no_fallback = await demo.inbound_routing.update(fallback_agent_id=None)
    assert no_fallback.fallback_agent_id is None

    await demo.inbound_routing.delete()
    assert await demo.inbound_routing.get() is None


async def test_an_invalid_routing_config_answers_unprocessable(demo: AnyreachClient) -> None:
    with pytest.raises(UnprocessableEntityError):
        await demo.inbound_routing.create()


async def test_publish_assigns_and_unassigns_an_agent_version(sandbox: Sandbox, demo: AnyreachClient) -> None:
    seed = sandbox.seed.demo
    number = (await demo.phone_numbers.list(trunk_id=seed.byoc_trunk_id)).items[-1].phone_number
    assigned = await demo.agents.publish(seed.agent_ids[2], 3, phone_numbers=[number], direction="both")
    assert [row.phone_number for row in assigned] == [number]
    assert assigned[0].inbound_agent_version_id is not None
    assert assigned[0].outbound_agent_version_id == assigned[0].inbound_agent_version_id
    assert (await demo.phone_numbers.get(number)).inbound_agent_version_id == assigned[0].inbound_agent_version_id

    # Unassigning through another agent leaves the slots alone; through the owner it clears them.
    untouched = await demo.agents.publish(seed.agent_ids[0], 1, unassign_phone_numbers=[number], direction="both")
    assert untouched[0].inbound_agent_version_id == assigned[0].inbound_agent_version_id
    cleared = await demo.agents.publish(seed.agent_ids[2], 3, unassign_phone_numbers=[number], direction="both")
    assert cleared[0].inbound_agent_version_id is None
    assert cleared[0].outbound_agent_version_id is None

    with pytest.raises(NotFoundError):
        await demo.agents.publish("agt_unknown", 1, phone_numbers=[number])
    with pytest.raises(NotFoundError):
        await demo.agents.publish(seed.agent_ids[0], 9, phone_numbers=[number])


@pytest.mark.parametrize(("capability", "wanted"), [("voice", True), ("sms", False), ("mms", True), ("mms", False)])
async def test_search_filters_on_capabilities(
    sandbox: Sandbox, demo: AnyreachClient, capability: str, wanted: bool
) -> None:
    offers = await demo.managed_accounts.search_numbers(
        sandbox.seed.demo.managed_account_id,
        voice_enabled=wanted if capability == "voice" else None,
        sms_enabled=wanted if capability == "sms" else None,
        mms_enabled=wanted if capability == "mms" else None,
        limit=50,
    )
    assert offers
    assert {getattr(offer.capabilities, capability) for offer in offers} == {wanted}


async def test_search_filters_on_postal_code(sandbox: Sandbox, demo: AnyreachClient) -> None:
    offers = await demo.managed_accounts.search_numbers(
        sandbox.seed.demo.managed_account_id, in_postal_code="94105", limit=5
    )
    assert offers
    assert {offer.postal_code for offer in offers} == {"94105"}
    assert {offer.region for offer in offers} == {"CA"}
