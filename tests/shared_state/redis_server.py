"""A real `redis-server` (Debian's package) on a free loopback port, stopped and restarted at will.

It appends every write to its AOF file before answering (`appendfsync always`), as a deployment should,
so a restart on the same directory remembers what it was told.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests.server.loopback import free_port

START_TIMEOUT = 20.0
PORT_ATTEMPTS = 5


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        why = "redis-server is not installed: apt-get install -y redis-server (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return found


@dataclass
class RedisServer:
    directory: Path
    port: int = 0
    _process: Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Start on the previous port (a restart), or on a free one, retrying if another process took it."""
        for _ in range(PORT_ATTEMPTS):
            self.port = self.port or free_port()
            if await self._start_on(self.port):
                return
            self.port = 0
        raise RuntimeError(f"redis-server did not start; see {self.directory / 'redis.log'}")

    async def stop(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        process.terminate()
        with anyio.move_on_after(START_TIMEOUT):
            await process.wait()
        if process.returncode is None:
            process.kill()
        await process.aclose()

    async def _start_on(self, port: int) -> bool:
        command = [
            redis_server_binary(),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--maxmemory-policy", "noeviction",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        self._process = await anyio.open_process(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        with anyio.fail_after(START_TIMEOUT):
            while self._process.returncode is None:
                if await self._answers():
                    return True
                await anyio.sleep(0.02)
        await self._process.aclose()
        self._process = None
        return False  # exited: most likely the port was taken meanwhile

    async def _answers(self) -> bool:
        probe = Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(await probe.ping())  # pyright: ignore[reportUnknownMemberType]
        except (RedisError, OSError):
            return False
        finally:
            await probe.aclose()
