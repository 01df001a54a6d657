"""The views in a real browser: Debian's chromium, driven by Playwright, inside a minimal MCP Apps host page.

The host page (`host.html`, built by views/build.mjs from the official AppBridge) renders a view in a sandboxed
iframe and forwards every tool call and resource read the view makes to `window.anyreachServer`, which is bound
here to a real MCP client of a real server on the sandbox. Nothing is downloaded: no browser build, no page.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

HOST_PAGE = Path(__file__).with_name("host.html")
# A test run leaves the committed screenshots alone (each run draws other ids); UPDATE_SCREENSHOTS=1 rewrites them.
SCREENSHOTS = (
    Path(__file__).parents[2] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "mcp-anyreach-screenshots"
)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


def chromium_path() -> str | None:
    return shutil.which("chromium")


def require_browser() -> str:
    """The chromium binary and the Playwright driver, or a skip saying how to get them."""
    path = chromium_path()
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    try:
        import playwright.async_api  # noqa: F401  # pyright: ignore[reportUnusedImport]
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    return path


@dataclass
class HostRecord:
    """What the page did: console errors, requests that left it, and the calls the view made through the host."""

    errors: list[str] = field(default_factory=list[str])
    requests: list[str] = field(default_factory=list[str])
    calls: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])


class ServerBridge:
    """`window.anyreachServer(method, params)`: the host's forwarding of a view's requests to the real server."""

    def __init__(self, client: Client, record: HostRecord) -> None:
        self.client = client
        self.record = record

    async def __call__(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            if method == "tools/call":
                self.record.calls.append((method, params["name"]))
                result = await self.client.call_tool(params["name"], params.get("arguments") or {})
            elif method == "resources/read":
                self.record.calls.append((method, params["uri"]))
                result = await self.client.read_resource(params["uri"])
            else:
                return {"error": f"the test host does not forward {method}"}
        except MCPError as exc:
            return {"error": str(exc)}
        return result.model_dump(by_alias=True, mode="json", exclude_none=True)


@asynccontextmanager
async def chromium(user_data_dir: Path) -> AsyncIterator[Any]:
    """One headless chromium with a fresh profile; the pages of a test module share it."""
    from playwright.async_api import async_playwright

    executable = require_browser()
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 940, "height": 900},
            device_scale_factor=1,
            offline=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            await context.close()


@asynccontextmanager
async def host_page(context: Any, client: Client) -> AsyncIterator[tuple[Any, HostRecord]]:
    """A fresh page of the test host, bound to `client`, recording console errors and outgoing requests."""
    record = HostRecord()
    page = await context.new_page()
    page.on("console", lambda message: record.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: record.errors.append(str(error)))
    page.on("request", lambda request: record.requests.append(request.url))
    await page.expose_function("anyreachServer", ServerBridge(client, record))
    await page.set_content(HOST_PAGE.read_text(encoding="utf-8"))
    try:
        yield page, record
    finally:
        await page.close()


async def show(page: Any, *, html: str, tool: str, arguments: dict[str, Any], result: Any, theme: str = "light") -> Any:
    """Render `html` as a host does for one call of `tool`; returns the view's frame."""
    payload = {"html": html, "tool": tool, "input": arguments, "result": result, "theme": theme}
    await page.evaluate("(view) => window.showView(view)", payload)
    return page.frame_locator("iframe")


async def screenshot(page: Any, name: str) -> Path:
    """The view as a person sees it, as SCREENSHOTS/NAME.png (docs/screenshots, shown by docs/views.md; on request)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.locator("iframe").screenshot(path=str(path), animations="disabled")
    return path
