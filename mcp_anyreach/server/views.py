"""MCP Apps views (`io.modelcontextprotocol/ui`): the inventory, a call's route and a change set, drawn by the host.

A view is a self-contained HTML page (built from `views/` by `views/build.mjs`, committed in `views_html/`)
served as a `ui://` resource. A tool is bound to its view by `_meta.ui.resourceUri`; a host that speaks MCP
Apps renders the view next to the tool's result, and every other host ignores the `_meta` and shows the same
results as before. The server advertises the extension in its capabilities (the SDK's `Apps` extension).

A view is offered only when something it draws exists on this server: a tool it is bound to that is
registered (toolsets, `--read-only`), or a resource it is bound to. A view for a tool that is not registered
is not offered, and no tool points at a view that is not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp.server.apps import APP_MIME_TYPE, Apps, ResourceCsp
from mcp.server.mcpserver.resources import FileResource
from mcp.server.mcpserver.tools import Tool

from mcp_anyreach.domain.uris import INVENTORY_URI

logger = logging.getLogger("mcp_anyreach.server")
VIEWS_HTML = Path(__file__).with_name("views_html")
STRICT_CSP = ResourceCsp(connect_domains=[], resource_domains=[], frame_domains=[], base_uri_domains=[])
"""No origin at all: a view makes no request, loads no font, script or image from anywhere."""


@dataclass(frozen=True, slots=True)
class AppView:
    name: str
    title: str
    description: str
    tools: tuple[str, ...]
    resources: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"ui://anyreach/{self.name}.html"

    @property
    def path(self) -> Path:
        return VIEWS_HTML / f"{self.name}.html"

    @property
    def meta(self) -> dict[str, Any]:
        """What a tool or resource bound to this view carries in `_meta`."""
        return {"ui": {"resourceUri": self.uri}}


VIEWS: tuple[AppView, ...] = (
    AppView(
        "inventory",
        "Telephony inventory",
        "Numbers grouped by trunk with the agent on each slot, routing state, findings by severity.",
        tools=("audit_inventory",),
        resources=(INVENTORY_URI,),
    ),
    AppView(
        "call-route",
        "A call's route",
        "Caller, number, trunk, routing and agent, or where and why the call is dropped.",
        tools=("explain_inbound_call",),
    ),
    AppView(
        "change-set",
        "Change set",
        "The plan's steps and impact, with an Approve button that goes through the confirmation gate.",
        tools=("plan_changes",),
    ),
)


def offered_views(tools: Iterable[str], resources: Iterable[str] = (INVENTORY_URI,)) -> list[AppView]:
    """The views something on this server draws into (a registered tool or resource), whose page ships."""
    tools, resources = set(tools), set(resources)
    views: list[AppView] = []
    for view in VIEWS:
        if tools.isdisjoint(view.tools) and resources.isdisjoint(view.resources):
            continue
        if not view.path.is_file():  # a packaging mistake costs the view, never the server
            logger.warning("MCP Apps view %s is missing (%s); hosts show plain results", view.name, view.path)
            continue
        views.append(view)
    return views


def view_of_resource(uri: str, views: Sequence[AppView]) -> AppView | None:
    return next((view for view in views if uri in view.resources), None)


def bind_views(tools: Sequence[Tool], views: Sequence[AppView]) -> list[Tool]:
    """`tools`, each one a view draws carrying `_meta.ui.resourceUri`; the others unchanged."""
    bound = {tool: view for view in views for tool in view.tools}
    return [
        tool.model_copy(update={"meta": {**(tool.meta or {}), **bound[tool.name].meta}}) if tool.name in bound else tool
        for tool in tools
    ]


def apps_extension(views: Sequence[AppView]) -> Apps:
    """The Apps extension serving `views` as `ui://` resources with a strict CSP; it advertises the capability.

    Each page (about 600 KB, the ext-apps bridge inlined) is read from disk when a host asks for it, not at
    start-up: most sessions never render a view, and every launch would pay for reading them.
    """
    apps = Apps()
    ui = {"csp": STRICT_CSP.model_dump(by_alias=True, exclude_none=True), "prefersBorder": True}
    for view in views:
        apps.add_resource(
            FileResource(
                uri=view.uri,
                name=f"{view.name}_view",
                title=view.title,
                description=view.description,
                mime_type=APP_MIME_TYPE,
                meta={"ui": ui},
                path=view.path,
                encoding="utf-8",
            )
        )
    return apps
