"""The purchase budget belongs to the organization, not to a credential: replicas of one organization holding
different keys (an ak_ key and a pat_ token, as during a key rotation) share it through one Redis."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from tests.reliability.live import CONFIRM_SECRET, live_sandbox
from tests.server.oauth_issuer import local_issuer, sign_in_env, signed_in
from tests.server.procs import spawn, spawn_listening
from tests.shared_state.redis_server import RedisServer
from tests.shared_state.test_replicas_subprocess import STATELESS, call, offered, outcome, preview


async def test_replicas_of_one_organization_with_different_keys_share_one_purchase_budget(
    tmp_path: Path, redis_server: RedisServer, era: str
) -> None:
    async with live_sandbox() as live, local_issuer() as issuer, AsyncExitStack() as stack:
        demo = live.sandbox.seed.demo
        shared = {
            "ANYREACH_ORG_ID": demo.org_id,
            "MCP_ANYREACH_REDIS_URL": redis_server.url,
            "MCP_ANYREACH_CONFIRM_SECRET": CONFIRM_SECRET,
            **sign_in_env(issuer),
        }
        with_key = live.env(demo.api_key, MCP_ANYREACH_MAX_PURCHASES="1", **shared)
        with_pat = live.env(demo.pat, MCP_ANYREACH_MAX_PURCHASES="1", **shared)
        key_replica, pat_replica = signed_in(
            issuer,
            await spawn_listening(
                stack,
                spawn(tmp_path / "ak.log", *STATELESS, env=with_key),
                spawn(tmp_path / "pat.log", *STATELESS, env=with_pat),
            ),
        )
        first, second = await offered(live, 2)
        bought = outcome(
            await call(
                key_replica,
                "purchase_phone_number",
                {"phone_number": first, "confirmation_token": await preview(key_replica, first)},
                era,
            )
        )
        live.counts.clear()
        refused = await call(pat_replica, "purchase_phone_number", {"phone_number": second}, era)

    assert bought == "done"
    assert outcome(refused) == "purchase limit", "the second replica's key does not make a second budget"
    assert live.counts["POST"] == 0, "nothing was bought, and nobody was asked"
