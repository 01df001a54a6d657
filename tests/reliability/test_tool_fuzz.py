"""Hostile arguments: every tool of tools/list, fed by hypothesis from its own input schema and a bag of
hostile values (wrong types, huge and unicode strings, SIP injections, bad E.164, out-of-range numbers,
extra fields), answers with a result or a clear tool error: never a client exception, a hang or an
internal error; and a rejected call leaves the sandbox as it was.

Each tool gets one sandbox and one MCP connection, living in a blocking portal's event loop, so that
hypothesis drives plain synchronous examples against them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp_types import CallToolResult, TextContent

from mcp_anyreach.sandbox import Sandbox, open_sandbox
from mcp_anyreach.sandbox.pool import NumberSearch
from mcp_anyreach.server import build_server
from mcp_anyreach.server.registry import SPECS
from mcp_anyreach.settings import Settings
from tests.server.conftest import sandbox_api

MAX_EXAMPLES = 30
CALL_TIMEOUT = 10.0
CONTROL = ("\r", "\n", "\0")

SIP_INJECTIONS = [
    "sip:a@b;transport=tcp\r\nX-Evil: 1",
    "pbx.example.com\r\nX-Evil: 1",
    "pbx.example.com:5060\nVia: SIP/2.0/UDP evil",
    "sips:pbx.example.com",
    "user@pbx.example.com",
    "pbx.example.com;lr",
    "pbx.example.com:0",
    "pbx.example.com:65536",
    "[::1]:5060",
    "[::1",
    "1.2.3.4:99999",
    "-bad-.example.com",
    "a" * 300 + ".example.com",
    "pbx.example.com\0",
    "<sip:pbx.example.com>",
    "pbx.example.com:5061",
]
BAD_E164 = [
    "",
    "+",
    "+1",
    "+1415555010",
    "+14155550100000000000",
    "(415) 555-0100\r\nX: y",
    "+44 20 7946 0958",
    "+\uff11\uff14\uff11\uff15\uff15\uff15\uff15\uff10\uff11\uff10\uff10",  # full-width digits
    "+0000000000",
    "tel:+14155550100",
    "' OR 1=1 --",
    "+1415555O100",
    "+1 415 555 0100 ext. 99999999999999999999",
    "%2B14155550100",
    "../../core/trunks",
]
HOSTILE_TEXT = [
    "",
    " ",
    "\r\n",
    "x" * 5000,
    "🙂" * 300,
    "ﷺ\u202e\u200b",
    "null",
    "../../../etc/passwd",
    "%00",
    "Robert'); DROP TABLE trunks;--",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "X-Evil: 1\r\nX-Other: 2",
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(HOSTILE_TEXT),
)
hostile = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=8,
)


@dataclass(frozen=True)
class Known:
    """Real identifiers, so that some generated calls get past validation and reach the sandbox."""

    numbers: list[str]
    trunk_ids: list[str]
    agent_ids: list[str]

    @classmethod
    def of(cls, sandbox: Sandbox) -> Known:
        demo, other = sandbox.seed.demo, sandbox.seed.other
        numbers = [row[0] for row in sandbox.store.db.query("SELECT phone_number FROM phone_numbers")]
        offered = sandbox.store.purchases.search(demo.org_id, demo.managed_account_id, NumberSearch(limit=4))
        return cls(
            numbers=[*numbers, *(offer.phone_number for offer in offered), "4155550123", "+12125550199"],
            trunk_ids=[*demo.managed_trunk_ids, demo.byoc_trunk_id, other.byoc_trunk_id, "0" * 64],
            agent_ids=[*demo.agent_ids, other.agent_ids[0], "agt_missing"],
        )


def mostly(plausible: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Plausible four times in five, so that many calls get past validation and go deeper."""
    return st.integers(0, 4).flatmap(lambda roll: hostile if roll == 0 else plausible)


def plausible_text(name: str, known: Known) -> st.SearchStrategy[Any]:
    if "phone_number" in name or name in ("contains", "allowed_numbers"):
        return mostly(st.sampled_from(known.numbers), st.sampled_from(BAD_E164))
    if name == "trunk_id":
        return mostly(st.sampled_from(known.trunk_ids), st.sampled_from(HOSTILE_TEXT))
    if name in ("agent_id", "fallback_agent_id"):
        return st.sampled_from(known.agent_ids)
    if name == "address":
        return st.sampled_from(SIP_INJECTIONS)
    if name == "allowed_addresses":
        return st.sampled_from(["203.0.113.0/24", "::1", "10.0.0.0/33", "1.2.3.4\r\n", "example.com"])
    if name in ("auth_username", "auth_password", "name", "workflow_id"):
        return st.sampled_from(["ok-name", "user\r\nX-Evil: 1", "a" * 200, "ünïcødé", "pw\0"]) | st.text(max_size=30)
    return st.text(max_size=30) | st.sampled_from(HOSTILE_TEXT)


def from_schema(schema: dict[str, Any], defs: dict[str, Any], name: str, known: Known) -> st.SearchStrategy[Any]:
    """A value for `schema`, plausible most of the time and hostile otherwise."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        return mostly(st.one_of([from_schema(option, defs, name, known) for option in schema["anyOf"]]), hostile)
    if "enum" in schema:
        return mostly(st.sampled_from(schema["enum"]), st.sampled_from(["", "inbound ", "NONE\r\n", "both" * 100]))
    match schema.get("type"):
        case "object" if "properties" in schema:
            return mostly(arguments_for(schema, defs, known), hostile)
        case "object":
            return mostly(st.dictionaries(st.text(max_size=10), hostile, max_size=4), hostile)
        case "array":
            items = from_schema(schema.get("items", {}), defs, name, known)
            oversized = items.map(lambda item: [item] * 101)
            return mostly(st.lists(items, max_size=5), oversized | hostile)
        case "string":
            return mostly(plausible_text(name, known), hostile)
        case "integer":
            low, high = schema.get("minimum", -5), schema.get("maximum", 10**6)
            edges = st.sampled_from([2**63, -(2**63), 0, low - 1, high + 1])
            return mostly(st.integers(min_value=low, max_value=min(high, 5)), edges | hostile)
        case "boolean":
            return mostly(st.booleans(), hostile)
        case _:
            return hostile


def arguments_for(schema: dict[str, Any], defs: dict[str, Any], known: Known) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = {key: from_schema(value, defs, key, known) for key, value in properties.items()}
    shaped = st.fixed_dictionaries(
        {key: value for key, value in fields.items() if key in required},
        optional={key: value for key, value in fields.items() if key not in required},
    )
    extra = st.dictionaries(st.sampled_from(["extra", "__proto__", "org_id", "organization_id"]), hostile, max_size=2)
    return st.one_of(
        shaped,
        st.tuples(shaped, extra).map(lambda pair: {**pair[1], **pair[0]}),
        st.fixed_dictionaries({}, optional=fields),
    )


# ---------------------------------------------------------------- the harness


class CrashLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.crashes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.crashes.append(record.getMessage())


def store_state(sandbox: Sandbox) -> tuple[object, ...]:
    db = sandbox.store.db
    return tuple(
        tuple(tuple(row) for row in db.query(sql))
        for sql in (
            "SELECT * FROM trunks ORDER BY seq",
            "SELECT * FROM phone_numbers ORDER BY seq",
            "SELECT * FROM inbound_routing_configs ORDER BY org_id",
        )
    )


def stored_strings(sandbox: Sandbox) -> Iterator[str]:
    for row in sandbox.store.db.query("SELECT name, inbound_config, outbound_config FROM trunks"):
        yield row[0]
        for config in row[1:]:
            if config:
                yield from _strings(json.loads(config))


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():  # pyright: ignore[reportUnknownVariableType]
            yield str(key)  # pyright: ignore[reportUnknownArgumentType]
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:  # pyright: ignore[reportUnknownVariableType]
            yield from _strings(item)


@dataclass
class Harness:
    sandbox: Sandbox
    client: Client
    crash_log: CrashLog
    schemas: dict[str, dict[str, Any]]
    calls: int = 0
    rejected: int = 0
    refused_by_sandbox: int = 0
    refusals: list[str] = field(default_factory=list[str])

    async def check(self, tool: str, arguments: dict[str, Any]) -> None:
        before = store_state(self.sandbox)
        counts_before = dict(self.sandbox.app.state.request_counts)
        with anyio.fail_after(CALL_TIMEOUT):
            result = await self.client.call_tool(tool, arguments)
        self.calls += 1
        assert not self.crash_log.crashes, self.crash_log.crashes
        assert isinstance(result, CallToolResult)
        if not result.is_error:
            assert all(not any(c in text for c in CONTROL) for text in stored_strings(self.sandbox))
            return
        self.rejected += 1
        text = " ".join(block.text for block in result.content if isinstance(block, TextContent))
        assert text.strip(), "an error without a message"
        assert text.strip() != f"Error executing tool {tool}", f"internal error for {arguments!r}"
        assert store_state(self.sandbox) == before, f"rejected call changed the sandbox: {text}"
        counts_after = dict(self.sandbox.app.state.request_counts)
        if "validation error" in text:
            assert counts_after == counts_before, "argument validation came after a request to the sandbox"
        writes = sum(n for method, n in counts_after.items() if method != "GET")
        if writes > sum(n for method, n in counts_before.items() if method != "GET"):
            # The server's own validation let it through and the API refused it: worth knowing, not wrong.
            self.refused_by_sandbox += 1
            self.refusals.append(text[:300])


@asynccontextmanager
async def harness(**fields: Any) -> AsyncIterator[Harness]:
    sandbox = open_sandbox(":memory:")
    crash_log = CrashLog()
    logging.getLogger("mcp").addHandler(crash_log)
    try:
        async with sandbox_api(sandbox) as api:
            server = build_server(Settings.model_validate({"sandbox": True, **fields}), api, sandbox=True)
            async with Client(server, cache=None) as client:
                listed = (await client.list_tools()).tools
                schemas = {tool.name: dict(tool.input_schema) for tool in listed}
                yield Harness(sandbox, client, crash_log, schemas)
    finally:
        logging.getLogger("mcp").removeHandler(crash_log)


@contextmanager
def harness_in_portal(**fields: Any) -> Iterator[tuple[BlockingPortal, Harness]]:
    with start_blocking_portal("asyncio") as portal, portal.wrap_async_context_manager(harness(**fields)) as opened:
        yield portal, opened


# ---------------------------------------------------------------- the tests


def test_the_fuzzed_tools_are_exactly_the_listed_ones() -> None:
    with harness_in_portal() as (_, opened):
        assert set(opened.schemas) == {spec.name for spec in SPECS}


@pytest.mark.parametrize("tool", [spec.name for spec in SPECS])
def test_every_tool_answers_hostile_arguments_with_a_result_or_a_clear_error_and_rejections_change_nothing(
    tool: str,
) -> None:
    # no_confirm and a high purchase cap let gated writes with plausible arguments reach the sandbox.
    with harness_in_portal(no_confirm=True, max_purchases=1000) as (portal, opened):
        schema = opened.schemas[tool]
        strategy = arguments_for(schema, schema.get("$defs", {}), Known.of(opened.sandbox))

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            database=None,
        )
        @given(arguments=strategy)
        def answers(arguments: dict[str, Any]) -> None:
            portal.call(opened.check, tool, arguments)

        answers()
        assert opened.calls >= MAX_EXAMPLES // 2
        print(  # shown with -s
            f"\n{tool}: {opened.calls} calls, {opened.rejected} rejected, "
            f"{opened.refused_by_sandbox} of them only by the sandbox",
            *opened.refusals,
            sep="\n  ",
        )


GATED = [spec.name for spec in SPECS if spec.gated]


@pytest.mark.parametrize("tool", GATED)
def test_a_gated_tool_never_acts_on_a_forged_or_garbled_confirmation_token(tool: str) -> None:
    tokens = st.one_of(
        st.text(max_size=60),
        st.sampled_from(["ct1.e30.AAAA", "ct1..", "ct1." + "A" * 900 + ".x", "\r\n", "🙂" * 50]),
        st.from_regex(r"ct1\.[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{1,43}", fullmatch=True),
    )
    with harness_in_portal() as (portal, opened):
        known = Known.of(opened.sandbox)
        schema = opened.schemas[tool]
        strategy = st.tuples(arguments_for(schema, schema.get("$defs", {}), known), tokens)

        @settings(max_examples=15, deadline=None, derandomize=True, database=None)
        @given(case=strategy)
        def refuses(case: tuple[dict[str, Any], str]) -> None:
            arguments, token = case
            before = store_state(opened.sandbox)
            portal.call(opened.check, tool, {**arguments, "confirmation_token": token})
            assert store_state(opened.sandbox) == before, "a forged token changed the sandbox"

        refuses()
