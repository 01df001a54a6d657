"""What every test shares: nothing from the developer's shell reaches the code under test."""

from __future__ import annotations

import os

import pytest

SETTINGS_PREFIXES = ("MCP_ANYREACH_", "ANYREACH_")


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's `MCP_ANYREACH_NO_CONFIRM=1` or `ANYREACH_TOKEN` must not change what a test sees."""
    for name in os.environ:
        if name.startswith(SETTINGS_PREFIXES):
            monkeypatch.delenv(name)
