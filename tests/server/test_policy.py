"""Build-time checks: the policy table and the tools cannot drift apart, and every deferred model can build."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import pytest
from mcp.server.mcpserver import Resolve
from pydantic import BaseModel

from mcp_anyreach.api.models import AnyreachModel, Page
from mcp_anyreach.server.audit_log import AuditLog
from mcp_anyreach.server.confirm import Preview, TokenSigner
from mcp_anyreach.server.gate import Gatekeeper, Verdict
from mcp_anyreach.server.registry import ToolSpec
from mcp_anyreach.server.tool_factory import make_tool
from mcp_anyreach.server.views import Result
from tests.server.conftest import ServerFactory

GATED = ToolSpec("delete_thing", "Delete a thing", "numbers", "destroy", gated=True)


class Done(BaseModel):
    ok: bool


async def _preview(args: Mapping[str, Any]) -> Preview:
    return Preview("delete it", None)


_gatekeeper = Gatekeeper(TokenSigner(b"k"), AuditLog(), no_confirm=False)
_blind_gate = _gatekeeper.gate("delete_thing", _preview, "thing_id")  # misses `force`


async def _gate_misses_an_argument(
    thing_id: str, verdict: Annotated[Verdict, Resolve(_blind_gate)], force: bool = False
) -> Done:
    return Done(ok=True)


async def _ungated(thing_id: str) -> Done:
    return Done(ok=True)


async def _shadows_pydantic(thing_id: str, json: str = "") -> Done:
    return Done(ok=True)


def test_a_gated_tool_whose_gate_misses_an_argument_is_refused_at_build() -> None:
    with pytest.raises(TypeError, match="gate sees"):
        make_tool(_gate_misses_an_argument, GATED)


def test_a_tool_the_registry_gates_but_whose_signature_does_not_is_refused_at_build() -> None:
    with pytest.raises(TypeError, match="gated=True"):
        make_tool(_ungated, GATED)


def test_a_tool_argument_named_like_a_pydantic_method_is_refused_at_build() -> None:
    with pytest.raises(TypeError, match=r"rename the arguments \['json'\]"):
        make_tool(_shadows_pydantic, ToolSpec("get_thing", "Get a thing", "numbers", "read"))


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
