"""Build-time checks: the policy table and the tools cannot drift apart, and every deferred model can build."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest
from mcp.server.mcpserver import Context
from pydantic import BaseModel

from mcp_anyreach.api.models import AnyreachModel, Page
from mcp_anyreach.domain.records import Result
from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server.app import TOOL_MODULES, build_services
from mcp_anyreach.server.gate.gatekeeper import Verdict, Write
from mcp_anyreach.server.gate.tokens import Preview
from mcp_anyreach.server.registry import SPECS, TOOLSETS, ToolSpec
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.tool_factory import ToolUnit, find_tools, make_tool
from mcp_anyreach.settings import Settings
from tests.server.conftest import ServerFactory, sandbox_api

GATED = ToolSpec("delete_thing", "Delete a thing", "numbers", "destroy", gated=True)
WRITE = ToolSpec("rename_thing", "Rename a thing", "numbers", "write")
READ = ToolSpec("get_thing", "Get a thing", "numbers", "read")


class Done(BaseModel):
    ok: bool


async def _preview(services: Services, thing_id: str) -> Preview:
    return Preview("delete it", None)


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
        make_tool(ToolUnit(GATED, _preview_misses_an_argument, _preview), services)


def test_a_tool_the_registry_gates_but_whose_signature_does_not_is_refused_at_build(services: Services) -> None:
    with pytest.raises(TypeError, match="gated=True"):
        make_tool(ToolUnit(GATED, _ungated, _preview), services)


def test_an_ungated_write_must_take_its_validated_arguments_for_the_audit_log(services: Services) -> None:
    with pytest.raises(TypeError, match="write: Write"):
        make_tool(ToolUnit(WRITE, _write_without_a_write), services)


def test_a_tool_argument_named_like_a_pydantic_method_is_refused_at_build(services: Services) -> None:
    with pytest.raises(TypeError, match=r"rename the arguments \['json'\]"):
        make_tool(ToolUnit(READ, _shadows_pydantic), services)


def test_a_tool_must_take_its_services_first(services: Services) -> None:
    with pytest.raises(TypeError, match="first parameter must be `services`"):
        make_tool(ToolUnit(READ, _services_not_first), services)


def test_what_the_audit_log_and_the_gate_receive_is_exactly_each_tools_arguments(services: Services) -> None:
    """For every real tool: a gated tool's preview takes its arguments; an ungated write gets them all."""
    for name, unit in find_tools(TOOL_MODULES).items():
        tool = make_tool(unit, services)
        arguments = set(tool.parameters["properties"]) - {"confirmation_token"}
        preview = unit.preview
        if preview is not None:
            assert set(inspect.signature(preview).parameters) - {"services"} == arguments, name
        parameters = inspect.signature(unit.function, eval_str=True).parameters.values()
        writes = [p for p in parameters if p.annotation is Write]
        assert bool(writes) == (tool.annotations is not None and not tool.annotations.read_only_hint and not preview)


def test_every_row_of_the_registry_finds_its_tool_and_every_gated_row_its_preview_in_its_toolsets_module() -> None:
    units = find_tools(TOOL_MODULES)

    assert list(units) == [spec.name for spec in SPECS]
    assert set(TOOL_MODULES) == set(TOOLSETS)
    for spec in SPECS:
        unit = units[spec.name]
        assert unit.function.__module__ == f"mcp_anyreach.server.tools.{spec.toolset}"
        assert (unit.preview is not None) == spec.gated, spec.name
        if unit.preview is not None:
            assert unit.preview.__name__ == f"preview_{spec.name}"
            assert unit.preview.__module__ == unit.function.__module__


def _toolset(**functions: object) -> dict[str, ModuleType]:
    """A numbers toolset holding `functions` (named as this module, so they count as defined in it)."""
    module = ModuleType(__name__)
    for name, function in functions.items():
        setattr(module, name, function)
    return {"numbers": module}


async def _delete_thing(
    services: Services, verdict: Verdict, thing_id: str, confirmation_token: str | None = None
) -> Done:
    return Done(ok=True)


async def _rename_thing(services: Services, write: Write, thing_id: str) -> Done:
    return Done(ok=True)


def test_a_server_whose_registry_gates_a_tool_without_a_preview_refuses_to_start() -> None:
    with pytest.raises(TypeError, match=r"gated, but tests\.server\.test_policy has no preview_delete_thing beside it"):
        find_tools(_toolset(delete_thing=_delete_thing), [GATED])


def test_a_server_with_a_preview_for_a_tool_the_registry_does_not_gate_refuses_to_start() -> None:
    toolset = _toolset(rename_thing=_rename_thing, preview_rename_thing=_preview)

    with pytest.raises(TypeError, match="previews rename_thing, but the registry does not mark it gated"):
        find_tools(toolset, [WRITE])


def test_a_server_with_a_preview_of_a_tool_the_registry_does_not_list_refuses_to_start() -> None:
    toolset = _toolset(rename_thing=_rename_thing, preview_delete_thing=_preview)

    with pytest.raises(TypeError, match="preview_delete_thing previews no tool of the numbers toolset"):
        find_tools(toolset, [WRITE])


def test_a_server_whose_registry_lists_a_tool_its_toolset_lacks_refuses_to_start() -> None:
    with pytest.raises(TypeError, match=r"tool rename_thing: the registry lists it, but .*test_policy has no async"):
        find_tools(_toolset(), [WRITE])


def test_a_gated_row_and_its_preview_beside_the_tool_are_all_it_takes_to_build_a_gated_tool(
    services: Services,
) -> None:
    units = find_tools(_toolset(delete_thing=_delete_thing, preview_delete_thing=_preview), [GATED])

    tool = make_tool(units["delete_thing"], services)

    assert units["delete_thing"].preview is _preview
    assert tool.annotations is not None
    assert tool.annotations.destructive_hint
    assert set(tool.parameters["properties"]) == {"thing_id", "confirmation_token"}


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
