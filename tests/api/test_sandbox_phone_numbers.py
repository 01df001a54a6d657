"""The phone-number directory through the client, against the embedded sandbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import anyio
import pytest

from mcp_anyreach.api import (
    AnyreachClient,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PhoneNumber,
    UnprocessableEntityError,
)
from mcp_anyreach.sandbox import Sandbox

Connect = Callable[..., AnyreachClient]


def fresh_number(index: int) -> str:
    return f"+1646555{index:04d}"


@pytest.fixture
def demo(sandbox: Sandbox, connect: Connect) -> AnyreachClient:
    return connect(sandbox.seed.demo.api_key)


async def all_numbers(client: AnyreachClient) -> list[PhoneNumber]:
    return [number async for number in client.phone_numbers.iter()]


async def test_list_returns_the_seeded_numbers_oldest_first(demo: AnyreachClient) -> None:
    page = await demo.phone_numbers.list()
    assert len(page.items) >= 5
    assert page.next_cursor is None
    created = [number.created_at for number in page.items]
    assert all(moment is not None for moment in created)
    assert created == sorted(created, key=lambda moment: moment or 0)


async def test_iter_walks_at_least_three_pages_lazily(sandbox: Sandbox, demo: AnyreachClient) -> None:
    expected = (await demo.phone_numbers.list(limit=100)).items
    counts = sandbox.app.state.request_counts
    before = counts["GET"]
    with anyio.fail_after(10):
        seen = [number async for number in demo.phone_numbers.iter(page_size=2)]
    assert seen == expected
    assert counts["GET"] - before == (len(expected) + 1) // 2 >= 3


async def test_list_pages_chain_through_next_cursor(demo: AnyreachClient) -> None:
    first = await demo.phone_numbers.list(limit=2)
    assert first.next_cursor is not None
    second = await demo.phone_numbers.list(limit=2, cursor=first.next_cursor)
    assert {n.phone_number for n in first.items}.isdisjoint({n.phone_number for n in second.items})


async def test_list_filters_by_number_substring_and_trunk(sandbox: Sandbox, demo: AnyreachClient) -> None:
    byoc = sandbox.seed.demo.byoc_trunk_id
    on_byoc = (await demo.phone_numbers.list(trunk_id=byoc)).items
    assert on_byoc
    assert {number.trunk_id for number in on_byoc} == {byoc}
    everything = await all_numbers(demo)
    assert len(on_byoc) < len(everything)
    target = everything[0].phone_number
    matched = (await demo.phone_numbers.list(phone_number=target[-6:])).items
    assert [number.phone_number for number in matched] == [target]


async def test_list_filters_by_creation_and_update_time(demo: AnyreachClient) -> None:
    numbers = await all_numbers(demo)
    created = [n.created_at for n in numbers if n.created_at is not None]
    earliest, latest = min(created), max(created)
    tick = timedelta(seconds=1)
    assert (await demo.phone_numbers.list(created_after=latest + tick)).items == []
    assert (await demo.phone_numbers.list(created_before=earliest - tick)).items == []
    assert len((await demo.phone_numbers.list(created_after=earliest - tick)).items) == len(numbers)

    touched = await demo.phone_numbers.update(numbers[-1].phone_number, outbound_shareable=True)
    assert touched.updated_at is not None
    just_before = touched.updated_at - timedelta(microseconds=1)
    recent = (await demo.phone_numbers.list(updated_after=just_before)).items
    assert touched.phone_number in {n.phone_number for n in recent}
    older = (await demo.phone_numbers.list(updated_before=just_before)).items
    assert touched.phone_number not in {n.phone_number for n in older}
    assert (await demo.phone_numbers.list(updated_before=just_before + 2 * tick)).items


async def test_get_create_update_and_delete_a_number(sandbox: Sandbox, demo: AnyreachClient) -> None:
    number = fresh_number(100)
    created = await demo.phone_numbers.create(
        phone_number=number, trunk_id=sandbox.seed.demo.byoc_trunk_id, outbound_shareable=True
    )
    assert created.phone_number == number
    assert created.outbound_shareable
    assert created.organization_id == sandbox.seed.demo.org_id
    assert await demo.phone_numbers.get(number) == created
    updated = await demo.phone_numbers.update(number, outbound_shareable=False)
    assert not updated.outbound_shareable
    await demo.phone_numbers.delete(number)
    with pytest.raises(NotFoundError):
        await demo.phone_numbers.get(number)
    with pytest.raises(NotFoundError):
        await demo.phone_numbers.delete(number)
    with pytest.raises(NotFoundError):
        await demo.phone_numbers.update(number, outbound_shareable=True)


async def test_registering_refusals_map_to_their_error_classes(sandbox: Sandbox, demo: AnyreachClient) -> None:
    seed = sandbox.seed.demo
    existing = (await demo.phone_numbers.list(limit=1)).items[0].phone_number
    with pytest.raises(ConflictError):
        await demo.phone_numbers.create(phone_number=existing, trunk_id=seed.byoc_trunk_id)
    with pytest.raises(NotFoundError):
        await demo.phone_numbers.create(phone_number=fresh_number(101), trunk_id="no-such-trunk")
    with pytest.raises(BadRequestError) as on_managed:
        await demo.phone_numbers.create(phone_number=fresh_number(102), trunk_id=seed.managed_trunk_ids[0])
    assert on_managed.value.detail
    with pytest.raises(UnprocessableEntityError) as invalid:
        await demo.phone_numbers.create(phone_number="not-a-number", trunk_id=seed.byoc_trunk_id)
    assert "phone_number" in invalid.value.detail


async def test_the_per_org_number_limit_answers_bad_request(sandbox: Sandbox, demo: AnyreachClient) -> None:
    limit: int = sandbox.app.state.number_limit
    count = len(await all_numbers(demo))
    for index in range(limit - count):
        await demo.phone_numbers.create(
            phone_number=fresh_number(110 + index), trunk_id=sandbox.seed.demo.byoc_trunk_id
        )
    with pytest.raises(BadRequestError, match="limit"):
        await demo.phone_numbers.create(phone_number=fresh_number(109), trunk_id=sandbox.seed.demo.byoc_trunk_id)
