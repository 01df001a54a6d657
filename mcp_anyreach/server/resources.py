"""Read-only JSON resources: the inventory, the directory, trunks and routing. Never a secret.

Lists are read page by page and report progress while they do. MCPServer gives static resources no
`Context`, so a small middleware keeps the current `resources/read` request's session in a context
variable for them; when the client asked for no progress, reporting does nothing.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from pydantic import BaseModel, ConfigDict, TypeAdapter

from mcp_anyreach.api import AnyreachError, NotFoundError
from mcp_anyreach.domain.api_errors import error_message
from mcp_anyreach.domain.args import to_e164
from mcp_anyreach.domain.records import NumberView, RoutingView, TrunkView
from mcp_anyreach.domain.uris import (
    AGENTS_URI,
    INVENTORY_URI,
    NUMBERS_URI,
    OPERATIONS_URI,
    ORGANIZATIONS_URI,
    ROUTING_URI,
    SCHEMA_URI,
    TRUNKS_URI,
    organization_uri,
)
from mcp_anyreach.reports.inventory import PAGE_SIZE, collect_inventory
from mcp_anyreach.server.services import Organizations, Services
from mcp_anyreach.server.views import AppView, view_of_resource

JSON = "application/json"
R = TypeVar("R")
_reading: contextvars.ContextVar[ServerRequestContext[Any, Any] | None] = contextvars.ContextVar(
    "anyreach_resource_read", default=None
)
_numbers_json = TypeAdapter(list[NumberView], config=ConfigDict(defer_build=True))
_trunks_json = TypeAdapter(list[TrunkView], config=ConfigDict(defer_build=True))


async def _keep_read_context(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    if ctx.method != "resources/read":
        return await call_next(ctx)
    token = _reading.set(ctx)
    try:
        return await call_next(ctx)
    finally:
        _reading.reset(token)


async def _report(done: int, total: int | None, message: str) -> None:
    ctx = _reading.get()
    if ctx is not None:
        await ctx.session.report_progress(done, total, message)


@contextmanager
def _resource_errors(not_found: str | None = None) -> Generator[None]:
    """API failures as resource errors: a 404 with `not_found` becomes ResourceNotFoundError."""
    try:
        yield
    except AnyreachError as exc:
        if not_found is not None and isinstance(exc, NotFoundError):
            raise ResourceNotFoundError(not_found) from exc
        raise ResourceError(error_message(exc, retry_safe=True)) from exc


def _json(model: BaseModel | None) -> str:
    return "null" if model is None else model.model_dump_json()


def register_resources(server: MCPServer, services: Services | Organizations, *, views: Sequence[AppView] = ()) -> None:
    """Register the inventory, phone-number, trunk, agent and routing resources (all read-only, JSON).

    A resource that one of `views` draws says so in `_meta.ui.resourceUri`, as a bound tool does. A server of
    several organizations serves each of them under `anyreach://organizations/{organization}/...`, and the list
    of them as `anyreach://organizations`.
    """
    organizations = Organizations.of(services)
    if _keep_read_context not in server.middleware:
        server.middleware.append(_keep_read_context)
    if organizations.several:
        _register_each(server, organizations)
    else:
        _register_one(server, organizations.first, views)

    @server.resource(SCHEMA_URI, name="desired_state_schema", title="Desired-state document schema", mime_type=JSON)
    def desired_state_schema() -> str:
        """JSON Schema of the desired-state document that plan_changes and `mcp-anyreach plan` take."""
        from mcp_anyreach.changes.desired import desired_state_schema as schema  # the engine: on first use

        return json.dumps(schema(several_organizations=organizations.several))

    @server.resource(OPERATIONS_URI, name="operations_schema", title="Change-set operations schema", mime_type=JSON)
    def operations_schema() -> str:
        """JSON Schema of the operations list that plan_changes takes."""
        from mcp_anyreach.changes.operations import operations_schema as schema  # the engine: on first use

        return json.dumps({"$id": OPERATIONS_URI, **schema()})


Reader = Callable[[Services], Awaitable[str]]


def _whole_lists() -> tuple[tuple[str, str, str, Reader], ...]:
    """The resources without a parameter: URI, name, title, and what reads them (its docstring describes them)."""
    return (
        (INVENTORY_URI, "inventory", "Telephony inventory", _inventory),
        (NUMBERS_URI, "phone_numbers", "Phone numbers", _phone_numbers),
        (TRUNKS_URI, "trunks", "SIP trunks", _trunks),
        (AGENTS_URI, "agents", "Agents", _agents),
        (ROUTING_URI, "inbound_routing_config", "Inbound routing", _inbound_routing_config),
    )


def _read_in_one(reader: Reader, services: Services) -> Callable[[], Awaitable[str]]:
    async def read() -> str:
        return await reader(services)

    return read


def _read_in_named(reader: Reader, pick: Callable[[str], Services]) -> Callable[[str], Awaitable[str]]:
    """A resource template's function: the SDK reads its parameter, the organization, from the URI."""

    async def read(organization: str) -> str:
        return await reader(pick(organization))

    return read


def _register_one(server: MCPServer, services: Services, views: Sequence[AppView]) -> None:
    for uri, name, title, reader in _whole_lists():
        view = view_of_resource(uri, views)
        meta = view.meta if view else None
        server.resource(uri, name=name, title=title, description=reader.__doc__, mime_type=JSON, meta=meta)(
            _read_in_one(reader, services)
        )

    @server.resource(
        f"{NUMBERS_URI}/{{phone_number}}",
        name="phone_number",
        title="Phone number",
        description=_phone_number.__doc__,
        mime_type=JSON,
    )
    async def phone_number(phone_number: str) -> str:
        return await _phone_number(services, phone_number)

    @server.resource(
        f"{TRUNKS_URI}/{{trunk_id}}", name="trunk", title="SIP trunk", description=_trunk.__doc__, mime_type=JSON
    )
    async def trunk(trunk_id: str) -> str:
        return await _trunk(services, trunk_id)


def _register_each(server: MCPServer, organizations: Organizations) -> None:
    def pick(organization: str) -> Services:
        try:
            return organizations.pick(organization)
        except ToolError as exc:
            raise ResourceNotFoundError(f"{exc} Read {ORGANIZATIONS_URI} for them.") from exc

    @server.resource(ORGANIZATIONS_URI, name="organizations", title="Organizations", mime_type=JSON)
    def listed() -> str:
        """The organizations this server serves: each one's id, name and the URIs of its resources."""
        return json.dumps(
            [
                {"id": org.id, "name": org.name, "inventory": organization_uri(org.id, INVENTORY_URI)}
                for org in (services.organization for services in organizations)
                if org is not None
            ],
            separators=(",", ":"),
        )

    def uri(of: str) -> str:
        return organization_uri("{organization}", of)

    for of, name, title, reader in _whole_lists():
        server.resource(uri(of), name=name, title=title, description=reader.__doc__, mime_type=JSON)(
            _read_in_named(reader, pick)
        )

    @server.resource(
        uri(f"{NUMBERS_URI}/{{phone_number}}"),
        name="phone_number",
        title="Phone number",
        description=_phone_number.__doc__,
        mime_type=JSON,
    )
    async def phone_number(organization: str, phone_number: str) -> str:
        return await _phone_number(pick(organization), phone_number)

    @server.resource(
        uri(f"{TRUNKS_URI}/{{trunk_id}}"), name="trunk", title="SIP trunk", description=_trunk.__doc__, mime_type=JSON
    )
    async def trunk(organization: str, trunk_id: str) -> str:
        return await _trunk(pick(organization), trunk_id)


async def _inventory(services: Services) -> str:
    """Counts, numbers per trunk, routing state and audit findings; `sandbox` says whether it is demo data."""
    with _resource_errors():
        agents = await services.agent_names.directory()
        inventory = await collect_inventory(services.client, sandbox=services.sandbox, progress=_report, agents=agents)
        return _json(inventory)


async def _phone_numbers(services: Services) -> str:
    """Every number of the directory with its trunk and agent versions, oldest first."""
    with _resource_errors():
        agents = await services.agent_names.directory()
        numbers = _counted(services.client.phone_numbers.iter(page_size=PAGE_SIZE))
        views = [NumberView.of(number, agents) async for number in numbers]
    return _numbers_json.dump_json(views).decode()


async def _phone_number(services: Services, phone_number: str) -> str:
    """One number of the directory (E.164; encode + as %2B)."""
    try:
        e164 = to_e164(phone_number)
    except ValueError as exc:
        raise ResourceNotFoundError(f"{exc}. Read {NUMBERS_URI} for the directory.") from exc
    with _resource_errors(not_found=f"{e164} is not in the directory; read {NUMBERS_URI} for the list."):
        agents = await services.agent_names.directory()
        return _json(NumberView.of(await services.client.phone_numbers.get(e164), agents))


async def _trunks(services: Services) -> str:
    """Every SIP trunk, managed and BYOC, with its inbound and outbound settings (passwords never shown)."""
    with _resource_errors():
        views = [TrunkView.of(trunk) async for trunk in _counted(services.client.trunks.iter(page_size=PAGE_SIZE))]
    return _trunks_json.dump_json(views).decode()


async def _trunk(services: Services, trunk_id: str) -> str:
    """One SIP trunk by id (passwords never shown)."""
    with _resource_errors(not_found=f"No trunk {trunk_id}; read {TRUNKS_URI} for the list."):
        return _json(TrunkView.of(await services.client.trunks.get(trunk_id)))


async def _agents(services: Services) -> str:
    """Every agent with its versions: whom the `agv_...` id on a number's slot names (agent and version)."""
    with _resource_errors():
        directory = await services.client.agents.directory()
    return json.dumps(
        [
            {
                "id": agent.id,
                "name": agent.name,
                "active": agent.active,
                "versions": [
                    {"id": version.id, "version": version.version, "published": version.published}
                    for version in directory.versions_of(agent.id)
                ],
            }
            for agent in directory.agents
        ],
        separators=(",", ":"),
    )


async def _inbound_routing_config(services: Services) -> str:
    """The organization's inbound routing config, or null when it has none."""
    with _resource_errors():
        config = await services.client.inbound_routing.get()
    return _json(None if config is None else RoutingView.of(config, whole=True))


async def _counted(rows: AsyncIterator[R]) -> AsyncIterator[R]:
    """Pass rows through, reporting progress as each page is used up."""
    count = 0
    async for row in rows:
        count += 1
        yield row
        if count % PAGE_SIZE == 0:
            await _report(count, None, f"Read {count} rows")
    if count % PAGE_SIZE:
        await _report(count, None, f"Read all {count} rows")
