"""The layers of server/: engines know nothing of MCP, and the SDK's internals are reached from one place."""

from __future__ import annotations

import subprocess
import sys

ENGINES = (
    "mcp_anyreach.server.inventory",
    "mcp_anyreach.server.summaries",
    "mcp_anyreach.server.trunk_changes",
    "mcp_anyreach.server.trunk_merge",
    "mcp_anyreach.server.workflows",
    "mcp_anyreach.server.holdings",
    "mcp_anyreach.server.references",
    "mcp_anyreach.server.changes.document_text",
    "mcp_anyreach.server.changes.grouping",
    "mcp_anyreach.server.purchases",
    "mcp_anyreach.server.networks",
    "mcp_anyreach.server.text",
    "mcp_anyreach.server.errors",
    "mcp_anyreach.server.args",
    "mcp_anyreach.server.views",
    "mcp_anyreach.server.confirm",
    "mcp_anyreach.server.audit_log",
    "mcp_anyreach.server.explain",
    "mcp_anyreach.server.uris",
    "mcp_anyreach.server.changes",
    "mcp_anyreach.server.changes.desired",
    "mcp_anyreach.server.changes.planner",
    "mcp_anyreach.server.changes.executor",
    "mcp_anyreach.server.changes.store",
    "mcp_anyreach.server.changes.commands",
    "mcp_anyreach.server.changes.results",
)


def test_importing_the_engines_leaves_the_mcp_sdk_unloaded() -> None:
    probe = (
        f"import sys; import {', '.join(ENGINES)}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'mcp'))"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert completed.stdout.strip() == "[]"


def test_a_server_on_the_real_api_starts_without_loading_what_only_some_calls_need() -> None:
    """A host waits for start-up on every launch: the change-set engine, the sandbox, number parsing and YAML
    wait for the first call that needs them."""
    probe = """
import sys
from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
settings = Settings(token="ak_dummy", base_url="http://127.0.0.1:9")
build_server(settings, AnyreachClient(settings.base_url, token="ak_dummy"))
print(sorted(m for m in sys.modules if m.startswith(LAZY)))
""".replace("LAZY", repr(("mcp_anyreach.server.changes.", "mcp_anyreach.sandbox", "fastapi", "phonenumbers", "yaml")))
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    loaded = completed.stdout.strip()
    assert loaded == str([f"mcp_anyreach.server.changes.{name}" for name in ("grouping", "model", "results", "store")])


def test_the_sdk_internals_the_server_relies_on_are_still_where_the_seam_expects_them() -> None:
    from mcp_anyreach.server import sdk

    for name in sdk.__all__:
        assert callable(getattr(sdk, name)), name


def test_only_the_seam_imports_the_sdks_private_modules() -> None:
    from pathlib import Path

    private = ("mcpserver.resolve", "utilities.func_metadata", "utilities.context_injection", "._connection")
    root = Path(__file__).parents[2] / "mcp_anyreach"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "sdk.py" and any(marker in path.read_text() for marker in private)
    ]
    assert offenders == []
