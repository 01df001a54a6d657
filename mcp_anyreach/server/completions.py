"""Completion of prompt arguments and resource-template parameters, from the account's own data.

A person filling in `provision_number` sees the area codes the managed account offers and the agents by id;
a client opening `anyreach://phone-numbers/{phone_number}` or `anyreach://trunks/{trunk_id}` sees what exists.
Completions are suggestions: when the API cannot be read, there are none, and nothing fails.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import Completion, CompletionArgument, CompletionContext, PromptReference, ResourceTemplateReference

from mcp_anyreach.api import AnyreachError
from mcp_anyreach.domain.uris import NUMBERS_URI, TRUNKS_URI, organization_uri
from mcp_anyreach.server.services import ORGANIZATION, Organizations, Services

logger = logging.getLogger("mcp_anyreach.server")
MAX_VALUES = 100  # the protocol's limit per answer


def register_completions(server: MCPServer, services: Services | Organizations) -> None:
    organizations = Organizations.of(services)

    @server.completion()
    async def complete(  # pyright: ignore[reportUnusedFunction]  # registered by the decorator
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        source = _source(organizations, ref, argument.name, argument.value, (context and context.arguments) or {})
        if source is None:
            return None
        found: dict[str, None] = {}  # ordered, and a membership test that stays cheap on a large directory
        try:
            async for value in source:
                if value.startswith(argument.value):
                    found[value] = None
        except AnyreachError as exc:
            logger.info("no completions for %s: %s", argument.name, exc)
            return None
        return Completion(values=list(found)[:MAX_VALUES], total=len(found), has_more=len(found) > MAX_VALUES)


def _source(
    organizations: Organizations,
    ref: PromptReference | ResourceTemplateReference,
    name: str,
    typed: str,
    given: Mapping[str, str],
) -> AsyncIterator[str] | None:
    if not organizations.several:
        return _one_source(organizations.first, ref, name, typed)
    if name == ORGANIZATION:
        return _organizations(organizations)
    within_one = isinstance(ref, PromptReference) or ref.uri.startswith(organization_uri("{organization}", ""))
    if not within_one:
        return None
    try:
        services = organizations.pick(given.get(ORGANIZATION))
    except ToolError:
        return None  # no organization chosen yet: nothing to suggest from
    if isinstance(ref, ResourceTemplateReference):
        within = ref.uri.replace(organization_uri("{organization}", ""), "anyreach://")
        ref = ResourceTemplateReference(type="ref/resource", uri=within)
    return _one_source(services, ref, name, typed)


async def _organizations(organizations: Organizations) -> AsyncIterator[str]:
    for services in organizations:
        if services.organization is not None:
            yield services.organization.id
            if services.organization.name != services.organization.id:
                yield services.organization.name


def _one_source(
    services: Services, ref: PromptReference | ResourceTemplateReference, name: str, typed: str
) -> AsyncIterator[str] | None:
    if isinstance(ref, PromptReference) and ref.name == "provision_number":
        return _area_codes(services) if name == "area_code" else _agent_ids(services) if name == "agent_id" else None
    if isinstance(ref, ResourceTemplateReference):
        if ref.uri == f"{NUMBERS_URI}/{{phone_number}}" and name == "phone_number":
            return _numbers(services, typed)
        if ref.uri == f"{TRUNKS_URI}/{{trunk_id}}" and name == "trunk_id":
            return _trunk_ids(services)
    return None


async def _area_codes(services: Services) -> AsyncIterator[str]:
    account = await services.managed_account.id()
    for offer in await services.client.managed_accounts.search_numbers(account, limit=100):
        if offer.phone_number.startswith("+1"):
            yield offer.phone_number[2:5]


async def _agent_ids(services: Services) -> AsyncIterator[str]:
    async for agent in services.client.agents.iter():
        yield agent.id


async def _numbers(services: Services, typed: str) -> AsyncIterator[str]:
    # The API's substring filter: a key press reads the numbers that can match, not the whole directory.
    async for number in services.client.phone_numbers.iter(phone_number=typed or None):
        yield number.phone_number


async def _trunk_ids(services: Services) -> AsyncIterator[str]:
    async for trunk in services.client.trunks.iter():
        yield trunk.id
