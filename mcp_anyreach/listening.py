"""A uvicorn server that says where it listens once it does: with port 0 only the bound socket knows the port."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn


def http_url(host: str, port: int, path: str = "") -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"


class AnnouncingServer(uvicorn.Server):
    """Calls `announce` with the base URL of the socket it bound, after it accepts connections."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[str], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            bound = self.servers[0].sockets[0].getsockname()
            self._announce(http_url(str(bound[0]), int(bound[1])))
