"""Build-time checks: the policy table and the tools cannot drift apart, and every deferred model can build."""

from __future__ import annotations

import inspect

import pytest
from mcp.server.mcpserver import Context
from pydantic import BaseModel

from mcp_anyreach.api.models import AnyreachModel, Page
from mcp_anyreach.domain.records import Result
from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server.app import TOOLS, build_services
from mcp_anyreach.server.gate.gatekeeper import Verdict, Write, preview_of, previewed_by
from mcp_anyreach.server.gate.tokens import Preview
from mcp_anyreach.server.registry import ToolSpec
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.tool_factory import make_tool
from mcp_anyreach.settings import Settings
from tests.server.conftest import ServerFactory, sandbox_api

GATED = ToolSpec("delete_thing", "Delete a thing", "numbers", "destroy", gated=True)
WRITE = ToolSpec("rename_thing", "Rename a thing", "numbers", "write")


class Done(BaseModel):
    ok: bool


async def _preview(services: Services, thing_id: str) -> Preview:
    return Preview("delete it", None)


@previewed_by(_preview)
async def _preview_misses_an_argument(
    services: Services, thing_id: str, verdict: Verdict, force: bool = False, confirmation_token: str | None = None
) -> Done:
    return Done(ok=True)


async def _ungated(services: Services, thing_id: str) -> Done:
    return Done(ok=True)


async def _write_without_a_write(services: Services, ctx: Context, thing_id: str) -> Done:
    return Done(ok=True)


async def _shadows_pydantic(services: Services, thing_id: str, json: str = "") -> Done:
    return Done(ok=True)


async def _services_not_first(thing_id: str, services: Services) -> Done:
    return Done(ok=True)


@pytest.fixture
def services(sandbox: Sandbox) -> Services:
    return build_services(Settings.model_validate({"sandbox": True}), sandbox_api(sandbox), sandbox=True)


def test_a_gated_tool_whose_preview_misses_an_argument_is_refused_at_build(services: Services) -> None:
    with pytest.raises(TypeError, match="preview sees"):
        make_tool(_preview_misses_an_argument, services, spec=GATED)


def test_a_tool_the_registry_gates_but_whose_signature_does_not_is_refused_at_build(services: Services) -> None:
    with pytest.raises(TypeError, match="gated=True"):
        make_tool(_ungated, services, spec=GATED)


def test_an_ungated_write_must_take_its_validated_arguments_for_the_audit_log(services: Services) -> None:
    with pytest.raises(TypeError, match="write: Write"):
        make_tool(_write_without_a_write, services, spec=WRITE)


def test_a_tool_argument_named_like_a_pydantic_method_is_refused_at_build(services: Services) -> None:
    with pytest.raises(TypeError, match=r"rename the arguments \['json'\]"):
        make_tool(_shadows_pydantic, services, spec=ToolSpec("get_thing", "Get a thing", "numbers", "read"))


def test_a_tool_must_take_its_services_first(services: Services) -> None:
    with pytest.raises(TypeError, match="first parameter must be `services`"):
        make_tool(_services_not_first, services, spec=ToolSpec("get_thing", "Get a thing", "numbers", "read"))


def test_what_the_audit_log_and_the_gate_receive_is_exactly_each_tools_arguments(services: Services) -> None:
    """For every real tool: a gated tool's preview takes its arguments; an ungated write gets them all."""
    for name, fn in TOOLS.items():
        tool = make_tool(fn, services)
        arguments = set(tool.parameters["properties"]) - {"confirmation_token"}
        preview = preview_of(fn)
        if preview is not None:
            assert set(inspect.signature(preview).parameters) - {"services"} == arguments, name
        writes = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.annotation is Write]
        assert bool(writes) == (tool.annotations is not None and not tool.annotations.read_only_hint and not preview)


def _subclasses(model: type[BaseModel]) -> set[type[BaseModel]]:
    found = set(model.__subclasses__())
    return found.union(*(_subclasses(sub) for sub in found))


async def test_every_deferred_model_builds(make_server: ServerFactory) -> None:
    """Models build their validators on first use; one that cannot build must fail here, not in a user's call."""
    make_server()  # the tools parametrize their generic results (Listing[NumberView], Gated[...]) when built
    models = {Page, *_subclasses(Page), *_subclasses(AnyreachModel), *_subclasses(Result)}
    for model in models:
        model.model_rebuild(force=True)
        assert model.__pydantic_complete__, model
    assert len(models) > 20, sorted(m.__name__ for m in models)
