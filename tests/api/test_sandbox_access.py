"""Tokens, scopes, organization isolation, the read-only mode and secrecy, against the sandbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import SecretStr

from mcp_anyreach.api import (
    AnyreachClient,
    AuthenticationError,
    NotFoundError,
    OutboundConfig,
    PermissionDeniedError,
    ReadOnlyError,
    UnprocessableEntityError,
)
from mcp_anyreach.sandbox import DemoOrg, Sandbox

from .conftest import PASSWORD

Connect = Callable[..., AnyreachClient]
PW = SecretStr(PASSWORD)


async def test_an_org_api_key_and_a_pat_with_its_org_both_work(sandbox: Sandbox, connect: Connect) -> None:
    seed = sandbox.seed.demo
    by_key = await connect(seed.api_key).phone_numbers.list()
    by_pat = await connect(seed.pat, seed.org_id).phone_numbers.list()
    assert by_key == by_pat
    assert {number.organization_id for number in by_key.items} == {seed.org_id}


def unknown_key(seed: DemoOrg) -> tuple[str, str | None]:
    return "ak_not_a_real_key", None


def unrecognised_format(seed: DemoOrg) -> tuple[str, str | None]:
    return "bearer-of-bad-news", None


def pat_without_org(seed: DemoOrg) -> tuple[str, str | None]:
    return seed.pat, None


def no_token(seed: DemoOrg) -> tuple[str, str | None]:
    return "", None


@pytest.mark.parametrize("credentials", [unknown_key, unrecognised_format, pat_without_org, no_token])
async def test_bad_credentials_raise_authentication_error(
    sandbox: Sandbox, connect: Connect, credentials: Callable[[DemoOrg], tuple[str, str | None]]
) -> None:
    token, org = credentials(sandbox.seed.demo)
    client = connect(token, org)
    with pytest.raises(AuthenticationError) as caught:
        await client.trunks.list()
    assert caught.value.status_code == 401
    if token:
        assert token not in str(caught.value)
        assert token not in repr(client)


async def test_a_pat_naming_an_org_its_user_is_not_in_is_refused(sandbox: Sandbox, connect: Connect) -> None:
    with pytest.raises(PermissionDeniedError):
        await connect(sandbox.seed.demo.pat, sandbox.seed.other.org_id).phone_numbers.list()


async def test_a_read_only_key_reads_but_every_write_is_permission_denied(sandbox: Sandbox, connect: Connect) -> None:
    seed = sandbox.seed.demo
    await connect(seed.api_key).inbound_routing.create(workflow_id="wf")
    reader = connect(seed.read_only_key)
    numbers = (await reader.phone_numbers.list()).items
    assert numbers
    await reader.trunks.list()
    await reader.inbound_routing.get()
    offers = await reader.managed_accounts.search_numbers(seed.managed_account_id, limit=1)
    # Each call is made at its await, so a failed check leaves no coroutine never awaited.
    writes = [
        lambda: reader.phone_numbers.create(phone_number="+16465550150", trunk_id=seed.byoc_trunk_id),
        lambda: reader.phone_numbers.update(numbers[0].phone_number, outbound_shareable=True),
        lambda: reader.phone_numbers.delete(numbers[0].phone_number),
        lambda: reader.managed_accounts.purchase_number(seed.managed_account_id, phone_number=offers[0].phone_number),
        lambda: reader.trunks.create(name="nope"),
        lambda: reader.trunks.update(seed.byoc_trunk_id, name="nope", passwords={"inbound": PW, "outbound": PW}),
        lambda: reader.trunks.delete(seed.byoc_trunk_id),
        lambda: reader.inbound_routing.create(workflow_id="wf2"),
        lambda: reader.inbound_routing.update(enabled=False),
        lambda: reader.inbound_routing.delete(),
        lambda: reader.agents.publish(seed.agent_ids[0], 1, phone_numbers=[numbers[0].phone_number]),
    ]
    for write in writes:
        with pytest.raises(PermissionDeniedError) as caught:
            await write()
        assert caught.value.status_code == 403


async def test_one_org_cannot_see_or_touch_another_orgs_objects(sandbox: Sandbox, connect: Connect) -> None:
    demo, other = sandbox.seed.demo, sandbox.seed.other
    client = connect(demo.api_key)
    theirs = (await connect(other.api_key).phone_numbers.list()).items
    mine = {number.phone_number for number in (await client.phone_numbers.list()).items}
    assert mine.isdisjoint({number.phone_number for number in theirs})
    with pytest.raises(NotFoundError):
        await client.phone_numbers.get(theirs[0].phone_number)
    with pytest.raises(NotFoundError):
        await client.phone_numbers.update(theirs[0].phone_number, outbound_shareable=True)
    with pytest.raises(NotFoundError):
        await client.phone_numbers.delete(theirs[0].phone_number)
    with pytest.raises(NotFoundError):
        await client.trunks.get(other.byoc_trunk_id)
    with pytest.raises(NotFoundError):
        await client.trunks.delete(other.byoc_trunk_id)
    with pytest.raises(NotFoundError):
        await client.phone_numbers.create(phone_number="+16465550151", trunk_id=other.byoc_trunk_id)
    with pytest.raises(NotFoundError):
        await client.managed_accounts.search_numbers(other.managed_account_id)
    with pytest.raises(NotFoundError):
        await client.agents.publish(other.agent_ids[0], 1, phone_numbers=[])
    assert (await client.phone_numbers.list(trunk_id=other.byoc_trunk_id)).items == []


async def test_a_read_only_client_sends_no_write_to_the_sandbox(sandbox: Sandbox, connect: Connect) -> None:
    seed = sandbox.seed.demo
    client = connect(seed.api_key, read_only=True)
    counts = sandbox.app.state.request_counts
    assert (await client.trunks.list()).items
    before = dict(counts)
    with pytest.raises(ReadOnlyError):
        await client.trunks.delete(seed.byoc_trunk_id)
    with pytest.raises(ReadOnlyError):
        await client.managed_accounts.purchase_number(seed.managed_account_id, phone_number="+15125550100")
    with pytest.raises(ReadOnlyError):
        await client.phone_numbers.update("+12125550131", outbound_shareable=True)
    with pytest.raises(ReadOnlyError):
        await client.inbound_routing.create(workflow_id="wf")
    assert dict(counts) == before
    assert client.read_only


async def test_sip_passwords_never_come_back_from_the_sandbox_or_its_errors(sandbox: Sandbox, connect: Connect) -> None:
    client = connect(sandbox.seed.demo.api_key)
    config = OutboundConfig(address="pbx.example.com", auth_username="u", auth_password=SecretStr(PASSWORD))
    trunk = await client.trunks.create(name="secret keeper", outbound_config=config)
    assert PASSWORD not in trunk.model_dump_json()
    assert PASSWORD not in repr(await client.trunks.get(trunk.id))
    too_long = OutboundConfig(address="pbx.example.com", auth_username="u", auth_password=SecretStr(PASSWORD * 40))
    with pytest.raises(UnprocessableEntityError) as caught:
        await client.trunks.create(name="leaky", outbound_config=too_long)
    for shown in (str(caught.value), repr(caught.value), str(caught.value.body)):
        assert PASSWORD not in shown
    assert sandbox.seed.demo.api_key not in repr(client)
