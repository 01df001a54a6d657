"""Fixtures that join the real MCP server to the real sandbox, in-process, with nothing mocked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult

from mcp_anyreach.api import AnyreachClient, NotFoundError
from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.server.registry import SPECS
from mcp_anyreach.settings import Settings

ERAS = ["auto", "legacy"]
CALL_TIMEOUT = 10.0
ACCEPT = {"confirm": True}
READ_TOOLS = {spec.name for spec in SPECS if spec.kind == "read"}
WRITE_TOOLS = {spec.name for spec in SPECS if spec.kind != "read"}


def sandbox_api(sandbox: Sandbox, token: str | None = None, org_id: str | None = None, **kwargs: Any) -> AnyreachClient:
    """A client of the in-process sandbox, as the demo organization unless `token` says otherwise."""
    transport = httpx2.ASGITransport(app=sandbox.app)
    return AnyreachClient(
        "http://sandbox.test", token or sandbox.seed.demo.api_key, org_id, transport=transport, **kwargs
    )


@pytest.fixture
def sandbox() -> Sandbox:
    return open_sandbox(":memory:")


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[AnyreachClient]:
    async with sandbox_api(sandbox) as client:
        yield client


def refusing_deletes_of(sandbox: Sandbox, *numbers: str) -> AnyreachClient:
    """A client of the sandbox whose API refuses to delete `numbers` (in use elsewhere): writes that fail."""
    real = httpx2.ASGITransport(app=sandbox.app)

    async def answer(request: httpx2.Request) -> httpx2.Response:
        if request.method == "DELETE" and request.url.path.endswith(numbers):
            return httpx2.Response(409, json={"detail": "The number is in use by a campaign."})
        return await real.handle_async_request(request)

    key = sandbox.seed.demo.api_key
    return AnyreachClient("http://sandbox.test", key, transport=httpx2.MockTransport(answer), max_retries=0)


ServerFactory = Callable[..., MCPServer]


@pytest.fixture
async def make_server(sandbox: Sandbox, api: AnyreachClient, tmp_path: Path) -> AsyncIterator[ServerFactory]:
    """`make_server(read_only=True, ...)`: a server on the demo org; keyword arguments are Settings fields.

    Servers given a `confirm_secret` are replicas: unless told otherwise they share one token store.
    """
    opened: list[AnyreachClient] = []

    def make(
        *,
        client: AnyreachClient | None = None,
        clock: Callable[[], float] | None = None,
        input_schemas: dict[str, Any] | None = None,
        **fields: Any,
    ) -> MCPServer:
        if "confirm_secret" in fields:
            fields.setdefault("token_store", tmp_path / "replicas-used-tokens.db")
        settings = Settings.model_validate({"sandbox": True, **fields})
        if client is None and settings.read_only:
            client = sandbox_api(sandbox, read_only=True)
            opened.append(client)
        return build_server(settings, client or api, sandbox=True, clock=clock, input_schemas=input_schemas)

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture
async def make_organizations_server(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[ServerFactory]:
    """`make_organizations_server(...)`: a server of both demo organizations ("Demo" and "Other"), acting as the
    demo user, a member of both, through one pat_ and X-Anyreach-Org; keyword arguments are Settings fields."""
    opened: list[AnyreachClient] = []
    demo, other, user = sandbox.seed.demo, sandbox.seed.other, sandbox.seed.user

    def make(
        *, clock: Callable[[], float] | None = None, input_schemas: dict[str, Any] | None = None, **fields: Any
    ) -> MCPServer:
        org_id = f"{demo.org_id}=Demo,{other.org_id}=Other"
        settings = Settings.model_validate({"sandbox": True, "org_id": org_id, **fields})
        clients = {
            named: sandbox_api(sandbox, user.pat, named.id, read_only=settings.read_only)
            for named in settings.organizations
        }
        opened.extend(clients.values())
        return build_server(settings, clients, sandbox=True, clock=clock, input_schemas=input_schemas)

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture(params=ERAS)
def era(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def answering(action: str, content: dict[str, Any] | None = None) -> Callable[..., Any]:
    """An elicitation callback that records the questions it gets and answers every one with `action`."""
    asked: list[str] = []

    async def callback(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=action, content=content if action == "accept" else None)  # type: ignore[arg-type]

    callback.asked = asked  # type: ignore[attr-defined]
    return callback


async def in_directory(api: AnyreachClient, number: str) -> bool:
    """Whether `number` is in the demo organization's directory (owned, registered or bought)."""
    try:
        await api.phone_numbers.get(number)
    except NotFoundError:
        return False
    return True


def connect(server: MCPServer, era: str, **kwargs: Any) -> Client:
    """A client in the given protocol era, with the response cache off so every read reaches the server."""
    return Client(server, mode=era, cache=None, **kwargs)  # type: ignore[arg-type]


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    with anyio.fail_after(CALL_TIMEOUT):
        return await client.call_tool(tool, arguments)


def questions(callback: Any) -> list[str]:
    """What an `answering(...)` callback was asked."""
    return callback.asked


def write_arguments(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """Arguments that would succeed (once confirmed) on a writable server."""
    demo = sandbox.seed.demo
    return {
        "register_phone_number": {"phone_number": "+16465550199", "trunk_id": demo.byoc_trunk_id},
        "update_phone_number": {"phone_number": "+12125550132", "outbound_shareable": True},
        "delete_phone_number": {"phone_number": "+12125550132"},
        "purchase_phone_number": {"phone_number": "+14155550177"},
        "create_trunk": {"name": "Sneaky PBX"},
        "update_trunk": {"trunk_id": demo.byoc_trunk_id, "name": "Sneaky PBX"},
        "delete_trunk": {"trunk_id": demo.byoc_trunk_id},
        "create_inbound_routing_config": {"workflow_id": "wf_sneaky"},
        "update_inbound_routing_config": {"enabled": False},
        "delete_inbound_routing_config": {},
        "assign_agent_to_numbers": {"agent_id": demo.agent_ids[2], "version": 1, "phone_numbers": ["+14155550102"]},
        "move_phone_numbers": {"to_trunk_id": demo.byoc_trunk_id, "phone_numbers": ["+12125550132"]},
        "delete_phone_numbers": {"phone_numbers": ["+12125550132"]},
        "apply_changes": {"plan_id": "pln_a_plan_made_elsewhere"},
    }
