"""The used-token record that replicas share through one SQLite file (MCP_ANYREACH_TOKEN_STORE)."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest

from mcp_anyreach.server.gate.tokens import ConfirmationError, Preview, TokenSigner
from mcp_anyreach.shared_state.used_tokens import FirstUse, MemoryUsedTokens, SqliteUsedTokens

REPLICAS = 8


def open_at_once(path: Path) -> list[SqliteUsedTokens]:
    barrier = threading.Barrier(REPLICAS)

    def open_one(_: int) -> SqliteUsedTokens:
        barrier.wait()
        return SqliteUsedTokens(path)

    with ThreadPoolExecutor(REPLICAS) as pool:
        return list(pool.map(open_one, range(REPLICAS)))


def test_replicas_started_together_on_a_new_token_store_all_start(tmp_path: Path) -> None:
    for attempt in range(60):
        assert len(open_at_once(tmp_path / f"start-{attempt}" / "used.db")) == REPLICAS


async def test_a_token_claimed_on_every_replica_at_once_is_accepted_exactly_once(tmp_path: Path) -> None:
    stores = open_at_once(tmp_path / "used.db")
    accepted: list[bool] = []

    async def claim(store: SqliteUsedTokens) -> None:
        accepted.append(await store.claim("nonce-1", expires_at=200.0, now=100.0) == "fresh")

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for store in stores + stores:  # two claims per replica: its own connection is shared too
                tg.start_soon(claim, store)
    assert sorted(accepted) == [False] * (2 * REPLICAS - 1) + [True]


async def test_a_used_token_is_forgotten_only_after_it_expires(tmp_path: Path) -> None:
    store = SqliteUsedTokens(tmp_path / "used.db")
    assert await store.claim("nonce-1", expires_at=200.0, now=100.0) == "fresh"
    assert await SqliteUsedTokens(tmp_path / "used.db").claim("nonce-1", expires_at=200.0, now=199.0) == "used"
    assert await store.claim("nonce-1", expires_at=400.0, now=300.0) == "fresh"


async def test_a_token_refused_while_the_store_is_locked_is_still_good_once_the_lock_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "used.db"
    signer = TokenSigner(b"k" * 32, used=SqliteUsedTokens(path, timeout=0.2), clock=lambda: 100.0)
    args = {"trunk_id": "trk_1"}
    preview = Preview("delete it", "state", ("anyreach://trunks/trk_1",))
    token = signer.mint("delete_trunk", args, preview, "session:1")
    reader = sqlite3.connect(path, isolation_level=None)  # a backup or an operator's sqlite3 shell
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM used_tokens").fetchone()
    with pytest.raises(ConfirmationError, match="same confirmation_token"):
        await signer.redeem(token, "delete_trunk", args, preview, "session:1")
    reader.execute("COMMIT")
    reader.close()

    await signer.redeem(token, "delete_trunk", args, preview, "session:1")
    with pytest.raises(ConfirmationError, match="already used"):
        await signer.redeem(token, "delete_trunk", args, preview, "session:1")


class CountedReads(MemoryUsedTokens):
    """The in-memory record, counting how often a token's use is read (each read of a shared store is a round trip)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def first_use(self, nonce: str, now: float) -> FirstUse | None:
        self.reads += 1
        return await super().first_use(nonce, now)


async def test_a_token_whose_use_was_read_when_its_call_was_seen_is_redeemed_without_reading_it_again() -> None:
    """The gate reads a token's use once (is this call a repeat?) and redeems with what it read; a use that came in
    between is still refused, by the claim."""
    store = CountedReads()
    signer = TokenSigner(b"k" * 32, used=store, clock=lambda: 100.0)
    args = {"trunk_id": "trk_1"}
    preview = Preview("delete it", "state", ("anyreach://trunks/trk_1",))
    token = signer.mint("delete_trunk", args, preview, "session:1")

    unused = await signer.first_use(token, "delete_trunk", args, "session:1")
    await signer.redeem(token, "delete_trunk", args, preview, "session:1", spent=unused is not None)

    assert (unused, store.reads) == (None, 1)
    with pytest.raises(ConfirmationError, match="already used"):
        await signer.redeem(token, "delete_trunk", args, preview, "session:1", spent=False)
