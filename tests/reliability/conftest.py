"""Shared by the reliability tests: only what every file here needs (each file builds its own sandbox)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
