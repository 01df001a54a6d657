"""Who answers a number, by name: a short-lived snapshot of the agent directory for views.

Views say "Support v2" instead of an opaque `agv_…` id. Reading the directory costs a request per agent,
so a snapshot is kept for a few seconds and dropped after any write that assigns agents. A credential
without `agents:read` still lists numbers: the names are then simply missing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from mcp_anyreach.api import AnyreachClient, AnyreachError
from mcp_anyreach.api.agent_directory import AgentDirectory

logger = logging.getLogger("mcp_anyreach.server")
TTL_SECONDS = 15.0


class AgentNames:
    def __init__(self, client: AnyreachClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._snapshot: tuple[float, AgentDirectory] | None = None

    async def directory(self) -> AgentDirectory | None:
        """The directory, at most TTL_SECONDS old; None when the agents cannot be read."""
        now = self._clock()
        if self._snapshot is not None and now - self._snapshot[0] < TTL_SECONDS:
            return self._snapshot[1]
        try:
            directory = await self._client.agents.directory()
        except AnyreachError as exc:
            logger.info("agent names unavailable, numbers show version ids only: %s", exc)
            return None
        self._snapshot = (now, directory)
        return directory

    async def fresh(self) -> AgentDirectory:
        """The directory read now (for checks before a change); raises AnyreachError when it cannot be read."""
        directory = await self._client.agents.directory()
        self._snapshot = (self._clock(), directory)
        return directory

    def forget(self) -> None:
        self._snapshot = None
