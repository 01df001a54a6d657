"""The MCP Apps side of the server: which views are offered and bound, what they weigh, how they are built,
and that a host without MCP Apps sees exactly the results it saw before."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp_types import TextResourceContents

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.server.registry import select_tools
from mcp_anyreach.server.tool_factory import find_tools, make_tool
from mcp_anyreach.server.views import VIEWS, bind_views, offered_views
from mcp_anyreach.settings import Settings
from tests.server.conftest import ERAS, sandbox_api
from tests.views.conftest import apps_client

ROOT = Path(__file__).parents[2]
INVENTORY_VIEW = "ui://anyreach/inventory.html"
BUILT = [view.path for view in VIEWS] + [ROOT / "tests" / "views" / "host.html"]
BUILD_TIMEOUT = 120.0


def expected_bindings() -> dict[str, str]:
    """Tool -> view URI for every tool a view draws that the registry has (issue 12's tools once they exist)."""
    names = {spec.name for spec in select_tools(read_only=False)}
    return {tool: view.uri for view in VIEWS for tool in view.tools if tool in names}


class Page(HTMLParser):
    """The parts of a view's HTML that decide what it may load and run."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.text[self._open] = self.text.get(self._open, "") + data

    @property
    def csp(self) -> dict[str, list[str]]:
        meta = next(
            attrs for tag, attrs in self.tags if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
        )
        directives = [part.split() for part in (meta["content"] or "").split(";") if part.strip()]
        return {name: values for name, *values in directives}


def parsed(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def plain_client(server: MCPServer, era: str = "auto") -> Client:
    return Client(server, mode=era, cache=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("era", ERAS)
async def test_audit_inventory_and_the_inventory_resource_point_at_the_inventory_view(
    server: MCPServer, era: str
) -> None:
    async with apps_client(server, era) as client:
        tools = (await client.list_tools()).tools
        resources = {str(resource.uri): resource for resource in (await client.list_resources()).resources}
        (page,) = (await client.read_resource(INVENTORY_VIEW)).contents

    bound = {tool.name: (tool.meta or {})["ui"]["resourceUri"] for tool in tools if tool.meta}
    assert bound["audit_inventory"] == INVENTORY_VIEW
    assert bound == expected_bindings()
    assert (resources["anyreach://inventory"].meta or {})["ui"] == {"resourceUri": INVENTORY_VIEW}
    assert resources[INVENTORY_VIEW].mime_type == APP_MIME_TYPE
    assert isinstance(page, TextResourceContents)
    assert page.mime_type == APP_MIME_TYPE
    assert (page.meta or {})["ui"]["csp"] == {
        "connectDomains": [],
        "resourceDomains": [],
        "frameDomains": [],
        "baseUriDomains": [],
    }
    assert "<title>Telephony inventory</title>" in page.text


async def test_the_server_advertises_the_mcp_apps_extension(server: MCPServer) -> None:
    async with apps_client(server) as client:
        capabilities = client.server_capabilities

    assert capabilities is not None
    assert EXTENSION_ID in (capabilities.extensions or {})


def test_a_view_is_offered_only_when_a_tool_or_resource_it_draws_is_registered() -> None:
    def offered(tools: list[str], resources: tuple[str, ...] = ()) -> list[str]:
        return [view.name for view in offered_views(tools, resources)]

    assert offered([]) == []
    assert offered(["list_phone_numbers"]) == []
    assert offered(["audit_inventory"]) == ["inventory"]
    assert offered([], ("anyreach://inventory",)) == ["inventory"]
    assert offered(["explain_inbound_call"]) == ["call-route"]
    assert offered(["plan_changes", "apply_changes"]) == ["change-set"]


@pytest.mark.parametrize(
    "settings",
    [{}, {"read_only": True}, {"toolsets": ["numbers"]}, {"tools": ["audit_inventory"], "toolsets": ["trunks"]}],
    ids=["all", "read-only", "numbers", "audit+trunks"],
)
async def test_every_tool_that_points_at_a_view_finds_it_and_every_view_draws_something_registered(
    sandbox: Sandbox, settings: dict[str, Any]
) -> None:
    async with sandbox_api(sandbox, read_only=bool(settings.get("read_only"))) as api:
        server = build_server(Settings.model_validate({"sandbox": True, **settings}), api, sandbox=True)
        async with apps_client(server) as client:
            tools = (await client.list_tools()).tools
            listed = {str(resource.uri) for resource in (await client.list_resources()).resources}

    pointed = {(tool.meta or {})["ui"]["resourceUri"] for tool in tools if tool.meta}
    views = {uri for uri in listed if uri.startswith("ui://")}
    registered = [tool.name for tool in tools]
    assert pointed <= views
    assert views == {view.uri for view in offered_views(registered)}
    assert INVENTORY_VIEW in views  # the inventory resource is always there, whatever the toolsets


async def test_binding_a_view_adds_only_meta_so_the_model_facing_tool_list_costs_nothing_more(
    api: AnyreachClient,
) -> None:
    from mcp_anyreach.server.app import TOOL_MODULES, build_services

    services = build_services(Settings(sandbox=True), api, sandbox=True)
    units = find_tools(TOOL_MODULES)
    tools = [make_tool(unit, services) for unit in units.values()]
    bound = bind_views(tools, offered_views(tool.name for tool in tools))

    fields = {"name", "title", "description", "parameters", "annotations", "output_schema"}
    assert [tool.model_dump(include=fields) for tool in bound] == [tool.model_dump(include=fields) for tool in tools]
    assert {tool.name for tool in bound if tool.meta} == {tool for view in VIEWS for tool in view.tools} & set(units)


@pytest.mark.parametrize("era", ERAS)
async def test_a_host_without_mcp_apps_gets_exactly_the_same_results(server: MCPServer, era: str) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("audit_inventory", {}),
        ("list_phone_numbers", {"limit": 2}),
        ("get_inbound_routing_config", {}),
    ]
    seen: list[list[Any]] = []
    for connect in (apps_client, plain_client):
        async with connect(server, era) as client:
            results = [await client.call_tool(tool, arguments) for tool, arguments in calls]
            inventory = await client.read_resource("anyreach://inventory")
        seen.append([result.model_dump(exclude={"meta"}) for result in results] + [inventory.contents])

    assert seen[0] == seen[1]


@pytest.mark.parametrize("path", [view.path for view in VIEWS], ids=[view.name for view in VIEWS])
def test_each_view_is_one_self_contained_page_under_a_megabyte_that_may_load_nothing(path: Path) -> None:
    page = parsed(path)
    csp = page.csp

    assert path.stat().st_size < 1_000_000
    assert [tag for tag, _ in page.tags if tag in ("script", "style", "link", "img", "iframe", "object")] == [
        "style",
        "script",
    ]
    assert [attrs for _, attrs in page.tags if {"src", "href", "srcset", "action"} & attrs.keys()] == []
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == [sha256(page.text["script"])]  # this page's own script and nothing else
    assert csp["style-src"] == [sha256(page.text["style"])]
    assert "connect-src" not in csp  # falls back to default-src 'none': no request leaves the view
    assert not any(word in page.text["style"] for word in ("url(", "@import", "@font-face"))


def test_the_committed_views_are_built_from_the_pinned_sources(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed; the views are built with it (npm ci --prefix views)")
    if not (ROOT / "views" / "node_modules" / "esbuild").is_dir():
        pytest.skip("the view build's packages are not installed: npm ci --prefix views")
    command = [node, str(ROOT / "views" / "build.mjs"), "--out-dir", str(tmp_path)]
    subprocess.run(command, check=True, capture_output=True, timeout=BUILD_TIMEOUT)

    stale = [
        str(path.relative_to(ROOT))
        for path in BUILT
        if (tmp_path / path.relative_to(ROOT)).read_bytes() != path.read_bytes()
    ]
    assert stale == [], "rebuild the views: npm ci --prefix views && node views/build.mjs"
