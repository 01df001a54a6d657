"""Nothing leaks: the whole mission, errors included, with a recognisable API token, confirm secret and SIP
passwords, and none of them appears in a result, resource, prompt, notification, log line or audit line."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from tests.reliability.live import CONFIRM_SECRET, live_sandbox
from tests.server.conftest import sandbox_api
from tests.server.procs import SERVER_COMMAND

SIP_PASSWORD = "SIPPASS-canary-7f3a"
INBOUND_PASSWORD = "INBOUNDPASS-canary-91c2"
NEW_NUMBER = "+13125550199"
MISSION_TIMEOUT = 60.0
URIS = [
    "anyreach://inventory",
    "anyreach://phone-numbers",
    "anyreach://trunks",
    "anyreach://inbound-routing-config",
    "anyreach://agents",
    "ui://anyreach/inventory.html",  # the MCP Apps view: the same rule as results
]


@dataclass
class Transcript:
    """Everything the client saw: results, resources, prompts, notifications, refused requests."""

    seen: list[str] = field(default_factory=list[str])
    tool_errors: list[str] = field(default_factory=list[str])

    def add(self, value: Any) -> None:
        self.seen.append(value if isinstance(value, str) else repr(value))

    async def add_async(self, message: Any) -> None:
        self.add(message)

    async def call(self, client: Client, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        result = await client.call_tool(tool, arguments)
        self.add(result.model_dump_json())
        if result.is_error:
            self.tool_errors.append(tool)
        return result

    async def gated(self, client: Client, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        """Preview, then confirm with the token, as a client without elicitation does."""
        preview = await self.call(client, tool, arguments)
        assert not preview.is_error, preview.content
        token = (preview.structured_content or {})["confirmation_token"]
        done = await self.call(client, tool, {**arguments, "confirmation_token": token})
        assert (done.structured_content or {}).get("status") == "done", done.content
        return done

    @property
    def text(self) -> str:
        return "\n".join(self.seen)


def outbound(address: str = "sip.canary-carrier.example:5061") -> dict[str, Any]:
    return {"address": address, "auth_username": "canary-user", "auth_password": SIP_PASSWORD, "transport": "TLS"}


def inbound() -> dict[str, Any]:
    return {"auth_username": "canary-in", "auth_password": INBOUND_PASSWORD, "allowed_addresses": ["203.0.113.0/24"]}


async def run_mission(client: Client, sandbox: Sandbox, seen: Transcript) -> None:
    """Every tool, resource, template and prompt, the refusals too; everything observed goes into `seen`."""
    demo = sandbox.seed.demo
    for listing in (client.list_tools, client.list_resources, client.list_resource_templates, client.list_prompts):
        seen.add((await listing()).model_dump_json())

    for tool, arguments in [
        ("list_phone_numbers", {}),
        ("get_phone_number", {"phone_number": "+12125550131"}),
        ("list_trunks", {}),
        ("get_trunk", {"trunk_id": demo.byoc_trunk_id}),
        ("get_inbound_routing_config", {}),
        ("audit_inventory", {"min_severity": "info"}),
    ]:
        await seen.call(client, tool, arguments)
    offers = await seen.call(client, "search_available_numbers", {"area_code": "415", "limit": 3})
    offer = (offers.structured_content or {})["items"][0]["phone_number"]

    created = await seen.gated(client, "create_trunk", {"name": "Canary", "inbound": inbound(), "outbound": outbound()})
    trunk_id = (created.structured_content or {})["result"]["id"]
    await seen.call(client, "get_trunk", {"trunk_id": trunk_id})
    await seen.call(client, "register_phone_number", {"phone_number": NEW_NUMBER, "trunk_id": trunk_id})
    await seen.call(client, "update_phone_number", {"phone_number": NEW_NUMBER, "outbound_shareable": True})
    await seen.gated(
        client,
        "update_trunk",
        {"trunk_id": trunk_id, "name": "Canary 2", "outbound": outbound("198.51.100.7"), "inbound": inbound()},
    )
    agent = {"agent_id": demo.agent_ids[0], "version": 1}
    await seen.gated(client, "assign_agent_to_numbers", {**agent, "phone_numbers": [NEW_NUMBER]})
    await seen.gated(client, "create_inbound_routing_config", {"workflow_id": "wf_canary", "fallback_agent_id": "a"})
    await seen.gated(client, "update_inbound_routing_config", {"enabled": False})
    for uri in [*URIS, f"anyreach://trunks/{trunk_id}", "anyreach://phone-numbers/%2B13125550199"]:
        seen.add((await client.read_resource(uri)).model_dump_json())
    await seen.gated(client, "delete_inbound_routing_config", {})
    await seen.gated(client, "purchase_phone_number", {"phone_number": offer})

    await refusals(client, sandbox, seen, trunk_id)

    await seen.gated(client, "delete_phone_number", {"phone_number": NEW_NUMBER})
    await seen.gated(client, "delete_trunk", {"trunk_id": trunk_id})
    for prompt, arguments in [("audit_telephony", None), ("provision_number", {"area_code": "415", "agent_id": "a"})]:
        seen.add((await client.get_prompt(prompt, arguments)).model_dump_json())


async def refusals(client: Client, sandbox: Sandbox, seen: Transcript, trunk_id: str) -> None:
    """Bad arguments, unknown ids, a managed trunk, forged and mismatched tokens: each an error, each recorded."""
    managed = sandbox.seed.demo.managed_trunk_ids[0]
    for tool, arguments in [
        ("get_trunk", {"trunk_id": "no-such-trunk"}),
        ("get_phone_number", {"phone_number": "+13125550142"}),
        ("update_trunk", {"trunk_id": managed, "name": "hijack", "outbound": outbound()}),
        ("delete_phone_number", {"phone_number": NEW_NUMBER, "confirmation_token": "ct1.forged.signature"}),
        ("create_trunk", {"name": "Bad host", "outbound": {**outbound(), "address": "sip:u@evil;lr"}}),
        ("create_trunk", {"name": "Extra", "outbound": {**outbound(), "secure": True}}),
        ("create_trunk", {"name": "", "inbound": {**inbound(), "auth_password": 12345}}),
        ("register_phone_number", {"phone_number": "12", "trunk_id": trunk_id}),
        ("list_phone_numbers", {"limit": 1000}),
    ]:
        assert (await seen.call(client, tool, arguments)).is_error, tool
    preview = await seen.call(client, "delete_trunk", {"trunk_id": trunk_id})
    assert preview.is_error, "a trunk that still carries a number is refused before any token"
    kept = {"inbound_password": INBOUND_PASSWORD}
    first = await seen.call(client, "update_trunk", {"trunk_id": trunk_id, "outbound": outbound(), **kept})
    token = (first.structured_content or {})["confirmation_token"]
    other = {"trunk_id": trunk_id, "outbound": outbound("203.0.113.9"), "confirmation_token": token, **kept}
    assert (await seen.call(client, "update_trunk", other)).is_error, "a token for other arguments is refused"
    for uri in ["anyreach://trunks/no-such-trunk", "anyreach://phone-numbers/not-a-number"]:
        try:
            await client.read_resource(uri)
        except MCPError as exc:
            seen.add(f"{exc!r} {exc.error!r}")
        else:
            pytest.fail(f"reading {uri} should fail")


def assert_no_secret(where: str, text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret[:12]}... appears in {where}"


def formatted(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(f"{formatter.format(record)} {record.args!r} {record.msg!r}" for record in records)


@asynccontextmanager
async def collecting_events(client: Client, era: str, seen: Transcript) -> AsyncIterator[None]:
    """Record every change event (modern `listen`) while the block runs; legacy uses the message handler."""
    if era == "legacy":
        yield
        return
    async with client.listen(resources_list_changed=True, resource_subscriptions=URIS) as events:

        async def drain() -> None:
            async for event in events:
                seen.add(event)

        async with anyio.create_task_group() as group:
            group.start_soon(drain)
            yield
            group.cancel_scope.cancel()


@pytest.mark.parametrize("era", ["auto", "legacy"])
async def test_the_whole_mission_shows_no_token_secret_or_sip_password_anywhere(
    era: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox = open_sandbox(":memory:")
    audit = tmp_path / "audit.jsonl"
    settings = Settings.model_validate(
        {"confirm_secret": CONFIRM_SECRET, "audit_log": audit, "token_store": tmp_path / "t.db"}
    )
    seen = Transcript()
    messages: list[Any] = []

    async def on_message(message: Any) -> None:
        messages.append(message)
        seen.add(message)

    async with sandbox_api(sandbox) as api:
        server = build_server(settings, api, sandbox=False)
        with anyio.fail_after(MISSION_TIMEOUT):
            async with (
                Client(server, mode=era, cache=None, message_handler=on_message) as client,  # type: ignore[arg-type]
                collecting_events(client, era, seen),
            ):
                await run_mission(client, sandbox, seen)

    secrets = [sandbox.seed.demo.api_key, CONFIRM_SECRET, SIP_PASSWORD, INBOUND_PASSWORD]
    assert len(seen.tool_errors) >= 11, "the refusals were errors"
    assert "anyreach://" in seen.text, "notifications or events were received"
    assert messages or era != "legacy"
    assert_no_secret("a result, resource, prompt or notification", seen.text, secrets)
    assert_no_secret("a log record", formatted(caplog.records), secrets)
    assert any(record.name == "mcp_anyreach.audit" for record in caplog.records)
    assert audit.read_text().count("\n") >= 20
    assert_no_secret("the audit log", audit.read_text(), secrets)


async def test_over_stdio_the_server_stderr_and_audit_log_never_show_the_token_or_passwords(tmp_path: Path) -> None:
    audit, stderr = tmp_path / "audit.jsonl", tmp_path / "stderr.log"
    seen = Transcript()
    async with live_sandbox() as live:
        env = live.env(
            ANYREACH_ORG_ID=live.sandbox.seed.demo.org_id,
            MCP_ANYREACH_CONFIRM_SECRET=CONFIRM_SECRET,
            MCP_ANYREACH_AUDIT_LOG=str(audit),
            MCP_ANYREACH_TOKEN_STORE=str(tmp_path / "used.db"),
        )
        params = StdioServerParameters(command=SERVER_COMMAND[0], args=[*SERVER_COMMAND[1:]], env=env)
        with stderr.open("w") as errlog, anyio.fail_after(MISSION_TIMEOUT):
            async with Client(stdio_client(params, errlog=errlog), message_handler=seen.add_async) as client:
                await run_mission(client, live.sandbox, seen)
        secrets = [live.sandbox.seed.demo.api_key, CONFIRM_SECRET, SIP_PASSWORD, INBOUND_PASSWORD]

    assert "audit" in stderr.read_text(), "the server logged its writes on stderr"
    assert_no_secret("the server's stderr", stderr.read_text(), secrets)
    assert_no_secret("the audit log", audit.read_text(), secrets)
    assert_no_secret("a result, resource, prompt or notification", seen.text, secrets)
    assert json.loads(audit.read_text().splitlines()[0])["tool"] == "create_trunk"


@pytest.mark.parametrize(
    "rejected",
    [{"auth_password": SIP_PASSWORD + "x" * 200}, {"password": SIP_PASSWORD}],
    ids=["password-too-long", "password-under-a-misspelt-key"],
)
async def test_a_rejected_password_argument_is_not_echoed_in_the_tool_error(rejected: dict[str, str]) -> None:
    sandbox = open_sandbox(":memory:")
    async with sandbox_api(sandbox) as api:
        server = build_server(Settings.model_validate({}), api, sandbox=True)
        with anyio.fail_after(MISSION_TIMEOUT):
            async with Client(server, cache=None) as client:  # type: ignore[arg-type]
                result = await client.call_tool("create_trunk", {"name": "x", "outbound": {**outbound(), **rejected}})

    assert result.is_error
    assert_no_secret("the tool error", result.model_dump_json(), [SIP_PASSWORD])
