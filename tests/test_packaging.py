"""What installers and registries read: the version, `python -m`, server.json, the README's marker, and the
reference page that documents every environment variable."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import anyio
from pydantic import SecretStr

from mcp_anyreach import __version__
from mcp_anyreach.settings import Settings
from tests.server.procs import SERVER_COMMAND, server_env

ROOT = Path(__file__).parents[1]
SERVER_JSON: dict[str, Any] = json.loads((ROOT / "server.json").read_text())
PYPI_PACKAGE: dict[str, Any] = next(p for p in SERVER_JSON["packages"] if p["registryType"] == "pypi")


def settings_env_names() -> dict[str, bool]:
    """Every environment variable Settings reads, and whether it holds a secret."""
    names: dict[str, bool] = {}
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", [])
        secret = SecretStr in getattr(field.annotation, "__args__", (field.annotation,))
        names |= {str(choice): secret for choice in choices if str(choice).isupper()}
    return names


def test_the_version_is_single_sourced_from_the_package_and_server_json_repeats_it() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "mcp_anyreach/__init__.py"
    assert SERVER_JSON["version"] == __version__
    assert PYPI_PACKAGE["version"] == __version__


def test_server_json_describes_the_pypi_package_over_stdio_within_the_registry_limits() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert SERVER_JSON["$schema"].startswith("https://static.modelcontextprotocol.io/schemas/")
    assert SERVER_JSON["name"].count("/") == 1
    assert len(SERVER_JSON["description"]) <= 100
    assert PYPI_PACKAGE["identifier"] == pyproject["project"]["name"]
    assert PYPI_PACKAGE["transport"] == {"type": "stdio"}


def test_server_json_names_only_real_environment_variables_and_marks_exactly_the_secrets() -> None:
    known = settings_env_names()
    declared = {variable["name"]: variable["isSecret"] for variable in PYPI_PACKAGE["environmentVariables"]}

    assert set(declared) <= set(known)
    assert {"ANYREACH_TOKEN", "ANYREACH_ORG_ID", "ANYREACH_MANAGED_ACCOUNT_ID"} <= set(declared)
    assert declared == {name: known[name] for name in declared}
    assert all(variable["description"] for variable in PYPI_PACKAGE["environmentVariables"])


def test_the_readme_carries_the_registry_marker() -> None:
    readme = (ROOT / "README.md").read_text()

    assert f"mcp-name: {SERVER_JSON['name']}" in readme


def test_the_reference_page_documents_every_environment_variable() -> None:
    reference = (ROOT / "docs" / "reference.md").read_text()

    assert not [name for name in settings_env_names() if f"`{name}`" not in reference]


def test_the_readme_set_up_command_ends_in_the_demo_and_the_test_command_is_the_ci_one() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.DOTALL)

    assert commands[0].endswith("mcp-anyreach demo")
    assert commands[1] == ".venv/bin/python -m pytest -q"


async def test_python_dash_m_mcp_anyreach_help_names_every_command() -> None:
    with anyio.fail_after(60):
        completed = await anyio.run_process(
            [*SERVER_COMMAND, "demo", "--help"], env=server_env(), stdin=subprocess.DEVNULL, check=False
        )

    assert completed.returncode == 0
    assert completed.stdout.startswith(b"usage: mcp-anyreach demo")
    assert b"--db" in completed.stdout


async def test_mcp_anyreach_dash_dash_version_prints_the_package_version() -> None:
    with anyio.fail_after(60):
        completed = await anyio.run_process(
            [*SERVER_COMMAND, "--version"], env=server_env(), stdin=subprocess.DEVNULL, check=False
        )

    assert completed.returncode == 0
    assert completed.stdout.decode().strip() == f"mcp-anyreach {__version__}"
