"""Safety checks that another layer repeats today, each tested on its own contract.

The used-token record refuses a second claim even when the signer's earlier look would have; the audit log
redacts a secret value whatever its key, a password-like key whatever its value, and a confirmation token
even though the gate never hands it one; a plan's fingerprint fixes its steps even though its basis mostly
does. Each layer must keep its promise alone, or a redesign of the other silently removes it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.changes.engine import fingerprint, plan_operations
from mcp_anyreach.changes.store import MemoryPlans
from mcp_anyreach.server.gate.audit_log import AuditLog
from mcp_anyreach.server.gate.tokens import ConfirmationError, Preview, TokenSigner
from mcp_anyreach.shared_state.used_tokens import MemoryUsedTokens

CLAIMANTS = 8
PASSWORD = "sip-pass-Hq27-unique"
TOKEN = "ct1.eyJ0IjoiZGVsZXRlIn0.c2lnbmF0dXJlLXVuaXF1ZQ"
NUMBER = "+12125550131"  # on a BYOC trunk, not shared, no agent: in the seed


def test_one_token_claimed_by_many_threads_at_once_on_the_memory_store_is_accepted_exactly_once() -> None:
    store = MemoryUsedTokens()
    barrier = threading.Barrier(CLAIMANTS)

    def claim(_: int) -> str:
        barrier.wait()
        return asyncio.run(store.claim("nonce-1", expires_at=200.0, now=100.0, targets=["anyreach://trunks/t1"]))

    with ThreadPoolExecutor(CLAIMANTS) as pool:
        verdicts = list(pool.map(claim, range(CLAIMANTS)))
    assert sorted(verdicts) == ["fresh"] + ["used"] * (CLAIMANTS - 1)


def _audited(tmp_path: Path, caplog: pytest.LogCaptureFixture, arguments: dict[str, Any]) -> tuple[Any, str]:
    """The arguments as the audit file holds them, and everything written (the file and the log)."""
    log = tmp_path / "audit.jsonl"
    caplog.set_level(logging.INFO)
    AuditLog(log).record("apply_changes", arguments, outcome="attempted", via=None)
    text = log.read_text()
    return json.loads(text)["arguments"], text + caplog.text


def test_a_secret_value_is_redacted_in_the_audit_whatever_key_holds_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    arguments = {"outbound": {"credential": SecretStr(PASSWORD)}, "values": [SecretStr(PASSWORD)]}
    logged, written = _audited(tmp_path, caplog, arguments)
    assert logged == {"outbound": {"credential": "[redacted]"}, "values": ["[redacted]"]}
    assert PASSWORD not in written


def test_a_plain_string_under_a_password_like_key_is_redacted_in_the_audit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    document = {
        "trunks": [{"name": "PBX", "outbound": {"auth_password": PASSWORD}, "inbound": {"Auth_Password": PASSWORD}}],
        "client_secret": PASSWORD,
        "routing": None,
    }
    logged, written = _audited(tmp_path, caplog, {"document": document})
    assert logged["document"] == {
        "trunks": [
            {"name": "PBX", "outbound": {"auth_password": "[redacted]"}, "inbound": {"Auth_Password": "[redacted]"}}
        ],
        "client_secret": "[redacted]",
        "routing": None,
    }
    assert PASSWORD not in written


def test_a_confirmation_token_among_the_arguments_never_reaches_the_audit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logged, written = _audited(tmp_path, caplog, {"phone_number": NUMBER, "confirmation_token": TOKEN})
    assert logged == {"phone_number": NUMBER, "confirmation_token": "[redacted]"}
    assert TOKEN not in written


async def test_two_plans_of_the_same_account_state_with_different_steps_have_different_fingerprints(
    api: AnyreachClient,
) -> None:
    plans = MemoryPlans()
    deleting = await plan_operations(api, plans, [{"op": "delete_numbers", "phone_numbers": [NUMBER]}], save=False)
    sharing = await plan_operations(
        api, plans, [{"op": "set_shareable", "phone_numbers": [NUMBER], "outbound_shareable": True}], save=False
    )
    assert deleting.basis == sharing.basis
    assert [step.action for step in deleting.steps] != [step.action for step in sharing.steps]
    assert fingerprint(deleting) != fingerprint(sharing)


async def test_a_confirmation_of_one_plan_cannot_run_another_of_the_same_account_state(api: AnyreachClient) -> None:
    plans = MemoryPlans()
    deleting = await plan_operations(api, plans, [{"op": "delete_numbers", "phone_numbers": [NUMBER]}], save=False)
    sharing = await plan_operations(
        api, plans, [{"op": "set_shareable", "phone_numbers": [NUMBER], "outbound_shareable": True}], save=False
    )
    signer = TokenSigner(b"k" * 32)
    arguments = {"phone_numbers": [NUMBER]}
    approved = Preview("share it", fingerprint(sharing), tuple(sharing.targets))
    token = signer.mint("delete_phone_numbers", arguments, approved, "session:1")
    running = Preview("delete it", fingerprint(deleting), tuple(deleting.targets))
    with pytest.raises(ConfirmationError, match="changed since the preview"):
        await signer.redeem(token, "delete_phone_numbers", arguments, running, "session:1")
