"""Shared by the reliability tests: only what every file here needs."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module-scoped, so that a module's servers and live sandbox are started once for all its tests."""
    return "asyncio"
