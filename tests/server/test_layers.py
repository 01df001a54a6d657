"""The layers (pyproject.toml's import contracts) hold at run time too: the engines load no MCP, start-up loads
only what every call needs, and the SDK's internals are reached from one place."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def mcp_free_modules() -> list[str]:
    """Every module of the layers pyproject.toml's import contract forbids to import `mcp`."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (layers,) = [c["source_modules"] for c in contracts if c.get("forbidden_modules") == ["mcp"]]
    found: list[str] = []
    for layer in layers:
        package = importlib.import_module(layer)
        found.append(layer)
        found += [info.name for info in pkgutil.walk_packages(package.__path__, f"{layer}.")]
    return found


def test_the_mcp_free_layers_hold_every_engine_the_server_and_the_command_line_share() -> None:
    modules = mcp_free_modules()
    for engine in ("planner", "inventory", "explain", "networks", "text", "managed_account", "used_tokens"):
        assert any(module.endswith(f".{engine}") for module in modules), engine


def test_importing_the_engines_leaves_the_mcp_sdk_unloaded() -> None:
    modules = [m for m in mcp_free_modules() if not m.startswith("mcp_anyreach.sandbox")]  # FastAPI's own deps
    probe = (
        f"import sys; import {', '.join(modules)}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'mcp'))"
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
""".replace("LAZY", repr(("mcp_anyreach.changes.", "mcp_anyreach.sandbox", "fastapi", "phonenumbers", "yaml")))
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    loaded = completed.stdout.strip()
    # A stored plan's steps are typed changes (actions/), so the plan model brings them: no further import.
    actions = ("actions", "actions.agents", "actions.base", "actions.numbers", "actions.routing", "actions.trunks")
    changes = (*actions, "grouping", "model", "results", "store", "undo_store")
    assert loaded == str([f"mcp_anyreach.changes.{name}" for name in changes])


def test_the_sdk_internals_the_server_relies_on_are_still_where_the_seam_expects_them() -> None:
    from mcp_anyreach.server import sdk

    for name in sdk.__all__:
        assert callable(getattr(sdk, name)), name


def test_only_the_seam_imports_the_sdks_private_modules() -> None:
    private = ("mcpserver.resolve", "utilities.func_metadata", "utilities.context_injection", "._connection")
    root = ROOT / "mcp_anyreach"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "sdk.py" and any(marker in path.read_text() for marker in private)
    ]
    assert offenders == []
