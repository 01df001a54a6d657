"""The agent directory through the client: against the sandbox, and with MockTransport for what it cannot do."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

from mcp_anyreach.api import (
    AgentDetail,
    AnyreachClient,
    NotFoundError,
    PermissionDeniedError,
)
from mcp_anyreach.sandbox import Sandbox

from .conftest import BASE_URL, TOKEN, json_response

Connect = Callable[..., AnyreachClient]
SUPPORT, AFTER_HOURS, SALES, LEGACY, DEMO_RECEPTIONIST = range(5)


@dataclass
class Witness(httpx2.AsyncBaseTransport):
    """Passes requests to the sandbox and notes each one's method and path."""

    inner: httpx2.AsyncBaseTransport
    seen: list[str] = field(default_factory=list[str])

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)


@pytest.fixture
def witness(sandbox: Sandbox) -> Witness:
    return Witness(httpx2.ASGITransport(app=sandbox.app))


@pytest.fixture
async def reader(sandbox: Sandbox, witness: Witness) -> AsyncIterator[AnyreachClient]:
    """A read-only client with a read-only key, as an audit server runs."""
    key = sandbox.seed.demo.read_only_key
    async with AnyreachClient("http://sandbox.test", key, transport=witness, read_only=True) as client:
        yield client


async def test_list_gives_named_agents_with_their_flags(sandbox: Sandbox, reader: AnyreachClient) -> None:
    page = await reader.agents.list()
    assert [agent.name for agent in page.items] == [
        "Support",
        "After-hours",
        "Sales",
        "Legacy IVR",
        "Demo receptionist",
    ]
    assert page.next_cursor is None
    legacy = page.items[LEGACY]
    assert (legacy.id, legacy.active, legacy.is_demo) == (sandbox.seed.demo.agent_ids[LEGACY], False, False)
    assert page.items[DEMO_RECEPTIONIST].is_demo
    assert page.items[SUPPORT].metadata == {"team": "support"}


async def test_list_filters_by_name_flags_and_metadata(reader: AnyreachClient) -> None:
    async def names(**filters: Any) -> list[str]:
        return [agent.name for agent in (await reader.agents.list(**filters)).items]

    assert await names(name="sal") == ["Sales"]
    assert await names(active=False) == ["Legacy IVR"]
    assert await names(is_demo=True) == ["Demo receptionist"]
    assert await names(metadata={"team": "support", "shift": "night"}) == ["After-hours"]
    assert await names(metadata={"team": "support"}, active=True) == ["Support", "After-hours"]


async def test_list_pages_with_a_cursor_and_iter_walks_every_page(reader: AnyreachClient, witness: Witness) -> None:
    first = await reader.agents.list(limit=3)
    assert len(first.items) == 3
    assert first.next_cursor is not None
    rest = await reader.agents.list(limit=3, cursor=first.next_cursor)
    assert [agent.name for agent in rest.items] == ["Legacy IVR", "Demo receptionist"]
    assert rest.next_cursor is None
    witness.seen.clear()
    walked = [agent.name async for agent in reader.agents.iter(page_size=2)]
    assert walked == [agent.name for agent in [*first.items, *rest.items]]
    assert witness.seen == ["GET /core/agents"] * 3


async def test_get_shows_versions_and_the_numbers_on_each_slot(sandbox: Sandbox, reader: AnyreachClient) -> None:
    demo = sandbox.seed.demo
    support = await reader.agents.get(demo.agent_ids[SUPPORT])
    assert isinstance(support, AgentDetail)
    assert [(v.version, v.published) for v in support.versions] == [(1, True), (2, True), (3, False)]
    assert support.latest_published is not None
    assert support.latest_published.version == 2
    assert (support.inbound_numbers, support.outbound_numbers) == (["+14155550101"], [])
    after_hours = await reader.agents.get(demo.agent_ids[AFTER_HOURS])
    assert (after_hours.inbound_numbers, after_hours.outbound_numbers) == (["+12125550132"], ["+12125550132"])
    receptionist = await reader.agents.get(demo.agent_ids[DEMO_RECEPTIONIST])
    assert receptionist.latest_published is None
    assert receptionist.phone_numbers == []


async def test_a_number_dialling_out_as_another_agent_is_not_counted_as_answered(
    sandbox: Sandbox, connect: Connect
) -> None:
    demo = sandbox.seed.demo
    client = connect(demo.api_key)
    await client.agents.publish(demo.agent_ids[SALES], 1, phone_numbers=["+14155550101"], direction="outbound")
    sales = await client.agents.get(demo.agent_ids[SALES])
    assert (sales.inbound_numbers, sales.outbound_numbers) == ([], ["+14155550101"])
    support = await client.agents.get(demo.agent_ids[SUPPORT])
    assert (support.inbound_numbers, support.outbound_numbers) == (["+14155550101"], [])


async def test_versions_filter_page_and_iterate(sandbox: Sandbox, reader: AnyreachClient) -> None:
    agent = sandbox.seed.demo.agent_ids[SUPPORT]
    assert [v.version for v in (await reader.agents.versions(agent, published=False)).items] == [3]
    assert [v.version for v in (await reader.agents.versions(agent, version=2)).items] == [2]
    first = await reader.agents.versions(agent, limit=2)
    assert [v.version for v in first.items] == [1, 2]
    assert first.next_cursor is not None
    assert [v.version async for v in reader.agents.iter_versions(agent, page_size=1)] == [1, 2, 3]
    assert [v.version async for v in reader.agents.iter_versions(agent, published=True)] == [1, 2]


async def test_one_version_by_number(sandbox: Sandbox, reader: AnyreachClient) -> None:
    demo = sandbox.seed.demo
    version = await reader.agents.version(demo.agent_ids[SALES], 2)
    assert (version.version, version.published, version.agent_id) == (2, True, demo.agent_ids[SALES])
    with pytest.raises(NotFoundError):
        await reader.agents.version(demo.agent_ids[SALES], 9)


@pytest.mark.parametrize("version", ["latest", 0, -1, True, 2.0])
async def test_version_refuses_anything_but_a_number_and_sends_nothing(
    sandbox: Sandbox, reader: AnyreachClient, witness: Witness, version: Any
) -> None:
    with pytest.raises(ValueError, match="never asks for 'latest'"):
        await reader.agents.version(sandbox.seed.demo.agent_ids[LEGACY], version)
    assert witness.seen == []


async def test_the_directory_names_every_assigned_version_and_creates_no_draft(
    sandbox: Sandbox, reader: AnyreachClient, witness: Witness
) -> None:
    demo = sandbox.seed.demo
    directory = await reader.agents.directory()
    assert [agent.id for agent in directory.agents] == list(demo.agent_ids)
    numbers = [number async for number in reader.phone_numbers.iter()]
    labels = {n.phone_number: directory.resolve(n.inbound_agent_version_id) for n in numbers}
    assert {number: ref.label for number, ref in labels.items() if ref} == {
        "+14155550101": "Support v2",
        "+12125550132": "After-hours v1",
    }
    after_hours = directory.resolve(next(n.outbound_agent_version_id for n in numbers if n.outbound_agent_version_id))
    assert after_hours is not None
    assert (after_hours.agent_id, after_hours.version, after_hours.published) == (demo.agent_ids[AFTER_HOURS], 1, True)
    assert directory.resolve(None) is None
    assert directory.resolve("agv_unknown") is None
    # The documented `versions/latest` would have added a fourth, draft version to the all-published agent.
    assert [v.version for v in directory.versions_of(demo.agent_ids[LEGACY])] == [1, 2, 3]
    assert not any(seen.endswith("/latest") for seen in witness.seen)
    assert {seen.split()[0] for seen in witness.seen} == {"GET"}


async def test_the_directory_costs_one_request_per_agent_plus_the_list(
    reader: AnyreachClient, witness: Witness
) -> None:
    directory = await reader.agents.directory()
    assert len(witness.seen) == 1 + len(directory)
    assert sorted(witness.seen)[:1] == ["GET /core/agents"]


async def test_the_directory_knows_each_agents_latest_published_version(
    sandbox: Sandbox, reader: AnyreachClient
) -> None:
    demo = sandbox.seed.demo
    directory = await reader.agents.directory()
    latest = {agent.name: directory.latest_published(agent.id) for agent in directory.agents}
    assert {name: version.version if version else None for name, version in latest.items()} == {
        "Support": 2,
        "After-hours": 1,
        "Sales": 2,
        "Legacy IVR": 3,
        "Demo receptionist": None,
    }
    assert directory.agent(demo.agent_ids[SALES]) is not None
    assert directory.agent(sandbox.seed.other.agent_ids[SALES]) is None
    assert directory.versions_of("agt_unknown") == ()


async def test_an_absent_or_foreign_agent_raises_not_found(sandbox: Sandbox, reader: AnyreachClient) -> None:
    for agent in ("agt_missing", sandbox.seed.other.agent_ids[SUPPORT]):
        with pytest.raises(NotFoundError):
            await reader.agents.get(agent)
        with pytest.raises(NotFoundError):
            await reader.agents.versions(agent)


async def test_each_org_sees_only_its_own_agents(sandbox: Sandbox, connect: Connect) -> None:
    demo, other = sandbox.seed.demo, sandbox.seed.other
    client = connect(other.pat, other.org_id)
    assert [agent.id async for agent in client.agents.iter()] == list(other.agent_ids)
    demo_version = sandbox.store.agents.version_id(demo.org_id, demo.agent_ids[SUPPORT], 2)
    other_version = sandbox.store.agents.version_id(other.org_id, other.agent_ids[SUPPORT], 2)
    directory = await client.agents.directory()
    assert directory.resolve(demo_version) is None
    assert directory.resolve(other_version) is not None


async def test_a_key_without_an_agents_scope_raises_permission_denied(sandbox: Sandbox, connect: Connect) -> None:
    demo = sandbox.seed.demo
    sandbox.store.organizations.add_credential(demo.org_id, "ak_numbers_only", ("phone_numbers:read",))
    client = connect("ak_numbers_only")
    with pytest.raises(PermissionDeniedError):
        await client.agents.list()
    with pytest.raises(PermissionDeniedError):
        await client.agents.directory()


def routed(routes: dict[str, httpx2.Response | Exception]) -> httpx2.MockTransport:
    """Answers by path, whatever order concurrent requests arrive in."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        answer = routes[request.url.path]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx2.MockTransport(handle)


def agent_row(agent_id: str, name: str) -> dict[str, Any]:
    return {"id": agent_id, "name": name, "active": True, "voice": "alloy"}


async def test_the_directory_leaves_out_an_agent_deleted_while_it_was_read() -> None:
    transport = routed(
        {
            "/core/agents": json_response(200, {"data": [agent_row("agt_a", "A"), agent_row("agt_b", "B")]}),
            "/core/agents/agt_a/versions": json_response(200, [{"id": "agv_a1", "version": 1, "published": True}]),
            "/core/agents/agt_b/versions": json_response(404, {"detail": "Agent agt_b not found"}),
        }
    )
    async with AnyreachClient(BASE_URL, TOKEN, transport=transport) as client:
        directory = await client.agents.directory()
    assert [agent.id for agent in directory.agents] == ["agt_a"]
    ref = directory.resolve("agv_a1")
    assert ref is not None
    assert (ref.agent_id, ref.agent_name, ref.version) == ("agt_a", "A", 1)


async def test_a_failure_while_reading_versions_raises_one_api_error_not_a_group() -> None:
    transport = routed(
        {
            "/core/agents": json_response(200, [agent_row("agt_a", "A"), agent_row("agt_b", "B")]),
            "/core/agents/agt_a/versions": json_response(403, {"detail": "Missing scope: agents:read"}),
            "/core/agents/agt_b/versions": json_response(403, {"detail": "Missing scope: agents:read"}),
        }
    )
    async with AnyreachClient(BASE_URL, TOKEN, transport=transport) as client:
        with pytest.raises(PermissionDeniedError):
            await client.agents.directory()


async def test_fields_the_real_service_adds_are_kept() -> None:
    detail = {
        **agent_row("agt_a", "A"),
        "sip_endpoint": {"state": "deployed"},
        "conversation_stats": {"total": 12},
        "versions": [{"id": "agv_a1", "version": 1, "published": True, "prompt": "hi"}],
        "phone_numbers": [{"phone_number": "+14155550101", "trunk_id": "t", "inbound_agent_version_id": "agv_a1"}],
    }
    transport = routed({"/core/agents/agt_a": json_response(200, detail)})
    async with AnyreachClient(BASE_URL, TOKEN, transport=transport) as client:
        agent = await client.agents.get("agt_a")
    assert agent.inbound_numbers == ["+14155550101"]
    assert agent.model_extra is not None
    assert agent.model_extra["conversation_stats"] == {"total": 12}
    assert json.loads(agent.model_dump_json())["sip_endpoint"] == {"state": "deployed"}
