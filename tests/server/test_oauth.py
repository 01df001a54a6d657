"""Sign-in with OAuth on streamable HTTP: the server as an OAuth resource server, against a local issuer
(its own key, its JWKS on loopback). The server runs in this process on a loopback port, on the sandbox."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.provider import AccessToken
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.server.http.oauth import OAuthConfigError, check_oauth
from mcp_anyreach.server.http.oauth_jwt import JwtVerifier
from mcp_anyreach.server.http.transports import http_app
from mcp_anyreach.server.registry import SPECS
from mcp_anyreach.settings import Settings
from tests.server.conftest import READ_TOOLS
from tests.server.loopback import free_port, serving
from tests.server.oauth_issuer import LocalIssuer, local_issuer, new_key

ALL_TOOLS = {spec.name for spec in SPECS}
READ, WRITE = "anyreach:read", "anyreach:write"
TIMEOUT = 30.0


@dataclass
class SignedIn:
    issuer: LocalIssuer
    resource: str
    audit_log: Path
    authorizations_seen_by_anyreach: list[str]

    def token(self, scope: str = f"{READ} {WRITE}", **claims: Any) -> str:
        return self.issuer.token(self.resource, scope, **claims)


def recording_authorization(app: ASGIApp, seen: list[str]) -> ASGIApp:
    async def record(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen.append(dict(scope["headers"]).get(b"authorization", b"").decode())
        await app(scope, receive, send)

    return record


@pytest.fixture
async def signed_in(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[SignedIn]:
    async with oauth_server(sandbox, tmp_path) as server:
        yield server


@asynccontextmanager
async def oauth_server(sandbox: Sandbox, tmp_path: Path, **fields: Any) -> AsyncGenerator[SignedIn]:
    """A streamable-HTTP server on loopback whose callers sign in with the local issuer; `fields` are settings."""
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    seen: list[str] = []
    async with local_issuer() as issuer:
        settings = Settings.model_validate(
            {
                "sandbox": True,
                "transport": "streamable-http",
                "port": port,
                "resource_url": resource,
                "oauth_issuer": issuer.url,
                "audit_log": tmp_path / "audit.jsonl",
                **fields,
            }
        )
        transport = httpx2.ASGITransport(app=recording_authorization(sandbox.app, seen))
        api = AnyreachClient("http://sandbox.test", sandbox.seed.demo.api_key, transport=transport)
        async with api, serving(http_app(build_server(settings, api, sandbox=True), settings), port):
            yield SignedIn(issuer, resource, tmp_path / "audit.jsonl", seen)


async def post_initialize(url: str, token: str | None, **headers: str) -> httpx2.Response:
    headers = {"Accept": "application/json, text/event-stream", **headers}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }
    async with httpx2.AsyncClient(timeout=TIMEOUT) as http:
        return await http.post(url, json=body, headers=headers)


async def tools_and_call(signed_in: SignedIn, token: str, era: str, tool: str, arguments: dict[str, Any]) -> Any:
    """The tools this caller sees, and the result of one call, over streamable HTTP."""
    with anyio.fail_after(TIMEOUT):
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT) as http:
            transport = streamable_http_client(signed_in.resource, http_client=http)
            async with Client(transport, mode=era) as client:  # type: ignore[arg-type]
                names = {tool.name for tool in (await client.list_tools()).tools}
                return names, await client.call_tool(tool, arguments)


def leaves(group: BaseExceptionGroup[MCPError]) -> list[MCPError]:
    found: list[MCPError] = []
    for error in group.exceptions:
        found += leaves(error) if isinstance(error, BaseExceptionGroup) else [cast(MCPError, error)]
    return found


async def refusal(signed_in: SignedIn, token: str, era: str, tool: str, arguments: dict[str, Any]) -> MCPError:
    """The JSON-RPC error a call gets (the client may raise it inside an exception group)."""
    refused: list[MCPError] = []
    try:
        await tools_and_call(signed_in, token, era, tool, arguments)
    except* MCPError as raised:
        refused += leaves(raised)
    assert refused, f"{tool} was not refused"
    return refused[0]


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 1_000_000},
        {"exp": int(time.time()) - 120},
        {"aud": "https://another-server.example/mcp"},
        {"iss": "https://impostor.example"},
    ],
    ids=["expired", "expired two minutes ago", "wrong audience", "wrong issuer"],
)
async def test_a_token_the_server_was_not_meant_to_accept_gets_401_pointing_at_the_metadata(
    signed_in: SignedIn, claims: dict[str, Any]
) -> None:
    response = await post_initialize(signed_in.resource, signed_in.token(**claims))

    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    assert 'resource_metadata="http://127.0.0.1' in challenge
    assert "/.well-known/oauth-protected-resource/mcp" in challenge


async def test_a_token_signed_by_a_key_the_issuer_never_published_gets_401(signed_in: SignedIn) -> None:
    forged = signed_in.issuer.token(signed_in.resource, f"{READ} {WRITE}", key=new_key())

    assert (await post_initialize(signed_in.resource, forged)).status_code == 401


async def test_a_request_without_a_token_gets_401(signed_in: SignedIn) -> None:
    assert (await post_initialize(signed_in.resource, None)).status_code == 401


async def test_a_valid_token_is_accepted(signed_in: SignedIn) -> None:
    assert (await post_initialize(signed_in.resource, signed_in.token())).status_code == 200


async def test_a_token_without_either_scope_gets_403_insufficient_scope(signed_in: SignedIn) -> None:
    response = await post_initialize(signed_in.resource, signed_in.token(scope="openid profile"))

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_the_protected_resource_metadata_names_the_issuer_and_both_scopes(signed_in: SignedIn) -> None:
    url = signed_in.resource.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
    async with httpx2.AsyncClient(timeout=TIMEOUT) as http:
        metadata = (await http.get(url)).json()

    assert metadata["resource"] == signed_in.resource
    assert metadata["authorization_servers"] == [signed_in.issuer.url]
    assert metadata["scopes_supported"] == [READ, WRITE]


async def test_the_read_scope_sees_only_read_tools_and_cannot_call_a_write(signed_in: SignedIn, era: str) -> None:
    token = signed_in.token(scope=READ)
    names, listing = await tools_and_call(signed_in, token, era, "list_phone_numbers", {"limit": 2})
    refused = await refusal(signed_in, token, era, "delete_phone_number", {"phone_number": "+12125550132"})

    assert names == READ_TOOLS
    assert not listing.is_error
    assert refused.error.code == INVALID_PARAMS
    assert WRITE in refused.error.message, "it says which scope to ask for"
    assert _audit(signed_in) == [], "no preview, no token: nothing was attempted"


async def test_a_read_scope_caller_calling_a_write_tool_by_name_is_told_it_is_read_only(
    signed_in: SignedIn, era: str
) -> None:
    token = signed_in.token(scope=READ)
    refused = await refusal(signed_in, token, era, "update_trunk", {"trunk_id": "trk_x", "name": "Renamed"})

    assert "This caller is read-only" in refused.error.message
    assert "Unknown tool" not in refused.error.message


async def test_a_read_scope_caller_is_shown_a_plan_but_keeps_none_that_could_crowd_out_a_writers(
    signed_in: SignedIn, era: str
) -> None:
    operations = {"operations": [{"op": "delete_numbers", "unused": True}]}
    _, planned = await tools_and_call(signed_in, signed_in.token(scope=READ), era, "plan_changes", operations)
    plan: dict[str, Any] = planned.structured_content or {}

    assert not planned.is_error
    assert plan["steps"], "the plan is shown"
    assert plan["plan_id"] is None
    assert plan["confirmation_token"] is None
    assert WRITE in plan["next"], "it says which scope applies plans"
    assert "not kept" in plan["next"]


async def test_the_write_scope_sees_every_tool_and_its_writes_are_audited_with_the_caller(
    signed_in: SignedIn, era: str
) -> None:
    names, preview = await tools_and_call(
        signed_in, signed_in.token(scope=WRITE), era, "delete_phone_number", {"phone_number": "+12125550132"}
    )

    assert names == ALL_TOOLS
    assert (preview.structured_content or {})["status"] == "confirmation_required"
    assert [entry["caller"] for entry in _audit(signed_in)] == ["auth0|alice <alice@example.com>"]


async def test_the_callers_token_never_reaches_anyreach(signed_in: SignedIn) -> None:
    token = signed_in.token(scope=READ)
    _, listing = await tools_and_call(signed_in, token, "auto", "list_phone_numbers", {"limit": 2})

    assert not listing.is_error
    assert signed_in.authorizations_seen_by_anyreach, "the sandbox was called"
    assert all(token not in seen for seen in signed_in.authorizations_seen_by_anyreach)


# The SDK refuses an expired token before our verifier is asked; the verifier must refuse it on its own too.


async def verified(token_claims: dict[str, Any]) -> AccessToken | None:
    """What the server's own verifier makes of a token from the local issuer carrying `token_claims`."""
    async with local_issuer() as issuer:
        verifier = JwtVerifier(issuer.url, "http://mcp.test/mcp", read_scope=READ, write_scope=WRITE)
        return await verifier.verify_token(issuer.token("http://mcp.test/mcp", f"{READ} {WRITE}", **token_claims))


async def test_the_verifier_accepts_a_current_token_and_names_its_subject() -> None:
    accepted = await verified({})

    assert accepted is not None
    assert accepted.subject == "auth0|alice"


async def test_the_verifier_itself_refuses_an_expired_token() -> None:
    assert await verified({"exp": 1_000_000}) is None


async def test_the_verifier_refuses_a_token_expired_two_minutes_ago_despite_its_clock_leeway() -> None:
    assert await verified({"exp": int(time.time()) - 120}) is None


async def test_the_verifier_tolerates_a_few_seconds_of_clock_difference_with_the_issuer() -> None:
    assert await verified({"exp": int(time.time()) - 5}) is not None


async def ping(url: str, token: str, session: str) -> httpx2.Response:
    """A request on an open session: 200 while it lives, 404 once it was ended."""
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(timeout=TIMEOUT) as http:
        return await http.post(
            url, json={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers=headers | {"mcp-session-id": session}
        )


ENDS_NO_SESSION: dict[str, Callable[[SignedIn], Awaitable[httpx2.Response]]] = {
    "an initialize without a token": lambda server: post_initialize(server.resource, None),
    "an initialize with an expired token": lambda server: post_initialize(server.resource, server.token(exp=1)),
    "an initialize with a foreign Host": lambda server: post_initialize(
        server.resource, server.token(), Host="evil.example"
    ),
    "a signed-in request that is not an initialize": lambda server: post_json(
        server.resource, server.token(), {"jsonrpc": "2.0", "id": 3, "method": "ping"}
    ),
}


async def post_json(url: str, token: str, body: dict[str, Any]) -> httpx2.Response:
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(timeout=TIMEOUT) as http:
        return await http.post(url, json=body, headers=headers)


@pytest.mark.parametrize("intruder", list(ENDS_NO_SESSION.values()), ids=list(ENDS_NO_SESSION))
async def test_a_request_that_opens_no_session_at_the_cap_ends_no_signed_in_users_idle_session(
    sandbox: Sandbox, tmp_path: Path, intruder: Callable[[SignedIn], Awaitable[httpx2.Response]]
) -> None:
    async with oauth_server(sandbox, tmp_path, max_sessions=1) as server:
        token = server.token()
        opened = await post_initialize(server.resource, token)
        session = opened.headers["mcp-session-id"]

        refused = await intruder(server)
        still_there = await ping(server.resource, token, session)

    assert refused.status_code in (400, 401, 421, 503), refused.text
    assert still_there.status_code == 200, "the signed-in user's idle session was ended to make room"


async def test_a_signed_in_initialize_at_the_cap_still_ends_the_oldest_idle_session(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with oauth_server(sandbox, tmp_path, max_sessions=1) as server:
        token = server.token()
        oldest = (await post_initialize(server.resource, token)).headers["mcp-session-id"]

        newcomer = await post_initialize(server.resource, token)
        evicted = await ping(server.resource, token, oldest)

    assert newcomer.status_code == 200
    assert evicted.status_code == 404


@pytest.mark.parametrize(
    ("fields", "needs"),
    [
        ({"oauth_issuer": "https://id.example"}, "MCP_ANYREACH_RESOURCE_URL"),
        ({"oauth_issuer": "https://id.example", "resource_url": "https://m.example/mcp"}, "streamable-http"),
        (
            {
                "oauth_issuer": "https://id.example",
                "resource_url": "https://m.example/mcp",
                "transport": "streamable-http",
                "http_token": "a-static-token-long-enough-for-the-check-0123",
            },
            "not both",
        ),
    ],
    ids=["no resource url", "stdio", "with a static token"],
)
def test_an_oauth_set_up_that_cannot_work_is_refused_at_start(fields: dict[str, str], needs: str) -> None:
    with pytest.raises(OAuthConfigError, match=needs):
        check_oauth(Settings.model_validate(fields))


def _audit(signed_in: SignedIn) -> list[dict[str, Any]]:
    if not signed_in.audit_log.exists():
        return []
    return [json.loads(line) for line in signed_in.audit_log.read_text().splitlines()]


async def test_a_caller_planning_in_a_loop_cannot_push_another_callers_plan_out(signed_in: SignedIn) -> None:
    operations = {"operations": [{"op": "delete_numbers", "unused": True}]}
    bob = signed_in.token(sub="auth0|bob")
    _, first = await tools_and_call(signed_in, bob, "auto", "plan_changes", operations)
    plan: dict[str, Any] = first.structured_content or {}
    alice = signed_in.token()
    for _ in range(20):
        _, looped = await tools_and_call(signed_in, alice, "auto", "plan_changes", operations)
        assert not looped.is_error
    apply = {"plan_id": plan["plan_id"], "confirmation_token": plan["confirmation_token"]}
    _, applied = await tools_and_call(signed_in, bob, "auto", "apply_changes", apply)

    assert not applied.is_error, applied.content
    assert (applied.structured_content or {})["status"] == "done", "each caller's plans count against its own quota"
