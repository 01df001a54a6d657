"""Finds each policy row's code and turns it into the SDK's Tool, shaped for a model's context.

A registry row names its code: the tool is `async def <tool_name>(services, ...)` in
`server/tools/<toolset>.py`, and a gated row's preview is `async def preview_<tool_name>(services, ...)`
beside it, taking the tool's arguments. `services` is bound here; a `ctx: Context` parameter receives the
request context; a gated tool takes `verdict: Verdict`, filled by the gate's resolvers, built here from its
preview and signature; an ungated write takes `write: Write` (its name and validated arguments, for the
audit log). Every other parameter is an argument the model gives. Nothing else lists the tools or their
previews: `find_tools` refuses to start a server whose rows and modules disagree.

A host waits for start-up on every launch, and deriving the input schemas with pydantic was most of ours.
So the published input schemas ship with the package (`tool_schemas.json`, derived from these same
signatures; a test fails when they drift), and each argument model builds its validator on first call.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from mcp_anyreach.domain.references import names_given_as_ids
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.server.argument_errors import argument_problems, invalid_arguments
from mcp_anyreach.server.gate.gatekeeper import PreviewFn, Verdict, Write
from mcp_anyreach.server.gate.tokens import Preview
from mcp_anyreach.server.registry import SPECS, ToolSpec
from mcp_anyreach.server.schema import OUTPUT_SCHEMA, lean
from mcp_anyreach.server.sdk import ArgModelBase, FuncMetadata, build_resolver_plans, find_context_parameter
from mcp_anyreach.server.services import ALL, ORGANIZATION, Organizations, Services, acting_in, current
from mcp_anyreach.server.telemetry import record_outcome

PUBLISHED_SCHEMAS = Path(__file__).with_name("tool_schemas.json")
TOKEN = "confirmation_token"  # noqa: S105 - an argument's name
PREVIEW = "preview_"
ToolFunction = Callable[..., Awaitable[BaseModel]]


@dataclass(frozen=True, slots=True)
class ToolUnit:
    """A policy row and the code it names: the tool's function and, for a gated row, its preview."""

    spec: ToolSpec
    function: ToolFunction
    preview: PreviewFn | None = None


def find_tools(modules: Mapping[str, ModuleType], specs: Sequence[ToolSpec] = SPECS) -> dict[str, ToolUnit]:
    """Each row's code, by name, from `modules` (each toolset's module, by toolset).

    Raises TypeError, so that no server starts, when a row has no function or a gated row no preview, or a
    module holds a preview that no gated row of its toolset names (a tool that would run unconfirmed).
    """
    units: dict[str, ToolUnit] = {}
    for spec in specs:
        module = modules.get(spec.toolset)
        if module is None:
            raise TypeError(f"toolset {spec.toolset}: no module in server/tools/ holds its tools")
        function = getattr(module, spec.name, None)
        if not inspect.iscoroutinefunction(function):
            raise TypeError(f"tool {spec.name}: the registry lists it, but {module.__name__} has no async def of it")
        preview = getattr(module, PREVIEW + spec.name, None) if spec.gated else None
        if spec.gated and preview is None:
            raise TypeError(
                f"tool {spec.name}: the registry marks it gated, but {module.__name__} has no "
                f"{PREVIEW}{spec.name} beside it to show the user what it would do"
            )
        units[spec.name] = ToolUnit(spec, function, preview)
    for toolset, module in modules.items():
        for name, value in vars(module).items():
            if name.startswith(PREVIEW) and getattr(value, "__module__", None) == module.__name__:
                _check_previewed(name.removeprefix(PREVIEW), toolset, module.__name__, specs)
    return units


def _check_previewed(tool: str, toolset: str, module: str, specs: Sequence[ToolSpec]) -> None:
    spec = next((spec for spec in specs if spec.name == tool and spec.toolset == toolset), None)
    if spec is None:
        raise TypeError(
            f"{module}.{PREVIEW}{tool} previews no tool of the {toolset} toolset: add {tool}'s row to "
            "server/registry.py (gated=True), or rename the preview"
        )
    if not spec.gated:
        raise TypeError(
            f"{module}.{PREVIEW}{tool} previews {tool}, but the registry does not mark it gated: it would run "
            "without anyone seeing the preview. Mark its row gated=True in server/registry.py, or drop the preview"
        )


class _Arguments(ArgModelBase):
    # A rejected argument may be a SIP password: the error the model reads names the field, never the value.
    model_config = ConfigDict(arbitrary_types_allowed=True, hide_input_in_errors=True, defer_build=True, strict=True)


def published_schemas() -> dict[str, dict[str, Any]]:
    try:
        return json.loads(PUBLISHED_SCHEMAS.read_text(encoding="utf-8"))
    except FileNotFoundError:  # a packaging mistake costs start-up time, never a tool
        return {}


def make_tool(unit: ToolUnit, services: Services | Organizations, input_schema: dict[str, Any] | None = None) -> Tool:
    """The SDK's Tool, with a lean input schema and structured output validated against the return model.

    `input_schema` is the published one; without it, it is derived from the signature. With the services of
    several organizations, the tool takes an `organization` argument and acts in the one it names.
    """
    organizations = Organizations.of(services)
    spec, fn = unit.spec, unit.function
    signature = inspect.signature(fn, eval_str=True)
    returns = signature.return_annotation
    if not (isinstance(returns, type) and issubclass(returns, BaseModel)):
        raise TypeError(f"tool {spec.name} must return a pydantic model, not {returns!r}")
    params = dict(signature.parameters)
    if next(iter(params), None) != "services":
        raise TypeError(f"tool {spec.name}: its first parameter must be `services`")
    context = find_context_parameter(fn)
    injected = {"services", context, *(n for n, p in params.items() if p.annotation in (Verdict, Write))}
    arguments: dict[str, Any] = {
        name: (param.annotation, ... if param.default is param.empty else param.default)
        for name, param in params.items()
        if name not in injected
    }
    if reserved := sorted(name for name in arguments if name.startswith("_") or name in dir(BaseModel)):
        raise TypeError(f"tool {spec.name}: rename the arguments {reserved}, pydantic models reserve those names")
    gates = _gates(unit, params, list(arguments), organizations, returns)
    arg_model = create_model(f"{spec.name}_arguments", __base__=_Arguments, **arguments)
    write = next((name for name, param in params.items() if param.annotation is Write), None)
    parameters = input_schema if input_schema is not None else lean(arg_model.model_json_schema(by_alias=True))
    several = organizations.several and not spec.several_organizations
    return _StrictTool(
        fn=_bound(fn, organizations, spec.name, write, [n for n in arguments if n != TOKEN], named=several),
        name=spec.name,
        title=spec.title,
        description=inspect.getdoc(fn) or "",
        parameters=_with_organization(parameters, spec.name in ANSWERS_FOR_ALL) if several else parameters,
        fn_metadata=FuncMetadata(arg_model=arg_model, output_model=returns, output_schema=OUTPUT_SCHEMA),
        is_async=True,
        services=organizations,
        several=several,
        context_kwarg=context,
        resolved_params=gates,
        resolver_plans=build_resolver_plans(gates, set(arguments)),
        annotations=spec.annotations,
    )


class _StrictTool(Tool):
    """A tool that says exactly which argument is wrong, and never guesses what the model meant.

    The SDK ignores unknown arguments (a `trunk_id` given to update_phone_number would change nothing and
    report success), turns the string "5" into 5, and reports pydantic's text with a link. Here an unknown
    argument, a number or boolean sent as a string, and every invalid value is refused with the argument's
    name, what is wrong, and an example. An agent's or trunk's name given as its id is answered with the id.
    """

    services: Any = None  # Organizations; Any because the SDK's Tool is a pydantic model that would validate it
    several: bool = False  # every call names its organization

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        properties: dict[str, Any] = self.parameters.get("properties", {})
        if problems := argument_problems(self.name, properties, arguments):
            raise ToolError(problems)
        if not self.several:
            return await self._run(self.services.first, arguments, context, convert_result)
        organizations: Organizations = self.services
        named = arguments.get(ORGANIZATION)
        rest = {key: value for key, value in arguments.items() if key != ORGANIZATION}
        if named == ALL and self.name in ANSWERS_FOR_ALL:
            return await _for_each(organizations, lambda services: self._run(services, rest, context, convert_result))
        return await self._run(
            organizations.pick(named, allow_all=self.name in ANSWERS_FOR_ALL), rest, context, convert_result
        )

    async def _run(self, services: Services, arguments: dict[str, Any], context: Any, convert_result: bool) -> Any:
        try:
            with acting_in(services):
                return await super().run(arguments, context, convert_result)
        except ToolError as exc:
            if self.services is not None and (
                named := await names_given_as_ids(services.client, services.agent_names, arguments, exc)
            ):
                raise ToolError(named) from exc
            # The SDK validates once and raises the ValidationError as the cause: only its wording changes.
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(invalid_arguments(self.name, self.parameters, exc.__cause__)) from None
            raise


ANSWERS_FOR_ALL = frozenset({"audit_inventory"})
"""Reads that take `organization: "all"` on a server of several organizations: one answer, grouped by organization."""


def _with_organization(schema: dict[str, Any], all_allowed: bool) -> dict[str, Any]:
    """`schema` with the required `organization` argument first. The server's instructions and list_organizations
    say what it takes: repeated on every tool, a description would cost more than the budget of several allows."""
    organization: dict[str, Any] = {"type": "string"}
    if all_allowed:
        organization["description"] = f"Id, name, or {ALL}"
    properties = {ORGANIZATION: organization, **schema.get("properties", {})}
    return {**schema, "properties": properties, "required": [ORGANIZATION, *schema.get("required", [])]}


async def _for_each(organizations: Organizations, run: Callable[[Services], Awaitable[Any]]) -> CallToolResult:
    """One read's answer for every organization, in the configured order; one that fails says why in its place."""
    answers: list[dict[str, Any]] = []
    for services in organizations:
        assert services.organization is not None
        try:
            result: CallToolResult = await run(services)
        except ToolError as exc:
            answers.append({"in_organization": services.organization.label, "error": str(exc)})
            continue
        answers.append(cast(dict[str, Any], result.structured_content))
    grouped = {"organizations": answers}
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(grouped, separators=(",", ":"), ensure_ascii=False))],
        structured_content=grouped,
    )


def _gates(
    unit: ToolUnit,
    params: dict[str, inspect.Parameter],
    arguments: list[str],
    organizations: Organizations,
    returns: type[BaseModel],
) -> dict[str, Any]:
    """The policy table says which tools are gated and which write; a tool's signature must agree.

    A gated tool's preview receives exactly the tool's arguments (all but the token): the token binds
    those, and the audit log and the re-check after a human's yes use the same ones, so an argument the
    preview missed could change after the preview unnoticed.
    """
    name, gated, preview = unit.spec.name, unit.spec.gated, unit.preview
    verdicts = [n for n, p in params.items() if p.annotation is Verdict]
    writes = [n for n, p in params.items() if p.annotation is Write]
    if gated != bool(verdicts) or gated != (preview is not None) or gated != (TOKEN in arguments):
        raise TypeError(
            f"tool {name}: the registry says gated={gated}, its signature disagrees (a gated tool takes "
            f"`verdict: Verdict` and `{TOKEN}`, and has a preview)"
        )
    if bool(writes) != (unit.spec.kind != "read" and not gated):
        raise TypeError(f"tool {name}: an ungated write takes `write: Write`, and only it")
    if preview is None:
        return {}
    previewed = [p for p in inspect.signature(preview).parameters if p != "services"]
    shown = [n for n in arguments if n != TOKEN]
    if sorted(previewed) != sorted(shown):
        raise TypeError(f"tool {name}: its preview sees {sorted(previewed)}, the tool takes {sorted(shown)}")
    first = organizations.first
    if not organizations.several:
        return {verdicts[0]: (first.gatekeeper.gate(name, functools.partial(preview, first), shown, returns), False)}
    # Each organization's gate holds its own organization's preview; the call picks the gate (`keeper`).
    named = [_naming_organization(functools.partial(preview, services), services) for services in organizations]
    for services, previewing in list(zip(organizations, named, strict=True))[1:]:
        services.gatekeeper.register(name, previewing, returns)
    resolver = first.gatekeeper.gate(name, named[0], shown, returns, keeper=lambda: current(first).gatekeeper)
    return {verdicts[0]: (resolver, False)}


def _naming_organization(preview: PreviewFn, services: Services) -> PreviewFn:
    """`preview`, whose summary (what the human is asked, what a token's caller shows) begins with the
    organization it changes."""
    assert services.organization is not None
    label = services.organization.label

    async def named(**arguments: Any) -> Preview:
        shown = await preview(**arguments)
        return Preview(f"In organization {label}: {shown.summary}", shown.state, shown.targets)

    return named


def _bound(
    fn: ToolFunction,
    organizations: Organizations,
    name: str,
    write: str | None,
    arguments: list[str],
    *,
    named: bool = False,
) -> Callable[..., Awaitable[CallToolResult]]:
    """Calls `fn` with the services of the organization the call acts in (and its Write), and returns compact
    JSON text without nulls, which names that organization when the server serves several.

    Hosts often hand the model the text block: the SDK's default indents it, which costs about a third
    more tokens on every call for nothing. A Refusal from an engine becomes a ToolError the model reads.
    """

    @functools.wraps(fn)
    async def call(**kwargs: Any) -> CallToolResult:
        services = current(organizations.first)
        if write is not None:
            kwargs[write] = Write(name, {arg: kwargs[arg] for arg in arguments})
        repeated = next((arg for arg in kwargs.values() if isinstance(arg, Verdict) and arg.repeat), None)
        try:
            result = services.gatekeeper.repeat(repeated) if repeated else await fn(services, **kwargs)
        except Refusal as exc:
            raise ToolError(str(exc)) from exc
        if isinstance(status := getattr(result, "status", None), str):  # a gated tool's outcome
            record_outcome(status)
        if not named or services.organization is None:
            return CallToolResult(
                content=[TextContent(type="text", text=result.model_dump_json(exclude_none=True))],
                structured_content=result.model_dump(mode="json"),
            )
        where = {"in_organization": services.organization.label}
        text = json.dumps(
            {**where, **result.model_dump(mode="json", exclude_none=True)}, separators=(",", ":"), ensure_ascii=False
        )
        return CallToolResult(
            content=[TextContent(type="text", text=text)],
            structured_content={**where, **result.model_dump(mode="json")},
        )

    return call
