"""Faults survived: 500 mixed operations through the MCP server against a sandbox that fails on purpose.

After every call the test reads the sandbox's store directly (no HTTP, so no fault) and compares it with
a model of what the model-facing answers said: a success must be applied exactly once; a failure must
have applied the write once or not at all, must say whether it is safe to retry, and when it says safe
to retry a non-idempotent write it must not have been applied. At the end, with faults off, the store
is read again through the API: no number bought twice, no write lost, none applied twice.
"""

from __future__ import annotations

import argparse
import copy
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import httpx2
import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent

from mcp_anyreach.api import AnyreachClient, APIConnectionError
from mcp_anyreach.domain.args import to_e164
from mcp_anyreach.sandbox import Faults, Sandbox, faults_argument, open_sandbox
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from tests.server.conftest import sandbox_api

OPERATIONS = 500
SEED = 20261126
SAFE = "It is safe to retry this call shortly."
UNKNOWN = "it is unknown whether the change was applied. Check the current state"
CALL_TIMEOUT = 10.0
AREA_CODES = ("212", "415", "312", "206", "617", "303")


async def no_sleep(delay: float) -> None:
    await anyio.lowlevel.checkpoint()


# ---------------------------------------------------------------- the faults themselves


def sandbox_with(**faults: Any) -> Sandbox:
    return open_sandbox(":memory:", faults=Faults(**faults))


async def post_trunk(sandbox: Sandbox, name: str) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=sandbox.app)
    headers = {"Authorization": f"Bearer {sandbox.seed.demo.api_key}"}
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.test", headers=headers) as http:
        return await http.post("/core/trunks", json={"name": name})


def trunk_names(sandbox: Sandbox) -> list[str]:
    return [row[0] for row in sandbox.store.db.query("SELECT name FROM trunks")]


async def test_an_injected_server_error_answers_before_the_handler_so_nothing_is_applied() -> None:
    sandbox = sandbox_with(error_rate=1.0, seed=1)
    response = await post_trunk(sandbox, "never")
    assert response.status_code in (500, 502, 503)
    assert "never" not in trunk_names(sandbox)
    assert sandbox.app.state.faults.injected == Counter(error=1)


async def test_an_injected_rate_limit_answers_429_with_retry_after_and_applies_nothing() -> None:
    sandbox = sandbox_with(rate_limit_rate=1.0, retry_after=2)
    response = await post_trunk(sandbox, "never")
    assert (response.status_code, response.headers["retry-after"]) == (429, "2")
    assert "never" not in trunk_names(sandbox)


async def test_a_dropped_connection_comes_after_the_write_is_committed_and_reaches_the_client_as_one() -> None:
    sandbox = sandbox_with(drop_after_write_rate=1.0)
    with pytest.raises(httpx2.TransportError):
        await post_trunk(sandbox, "applied")
    assert "applied" in trunk_names(sandbox)
    async with sandbox_api(sandbox) as api:
        with pytest.raises(APIConnectionError):
            await api.trunks.create(name="applied too")
    assert "applied too" in trunk_names(sandbox)


async def test_turning_faults_off_lets_every_request_through_and_the_documents_are_never_faulted() -> None:
    sandbox = sandbox_with(error_rate=1.0)
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        assert (await http.get("/openapi.json")).status_code == 200
    sandbox.app.state.faults.enabled = False
    assert (await post_trunk(sandbox, "through")).status_code == 201


async def test_max_faults_stops_injecting_after_that_many() -> None:
    sandbox = sandbox_with(error_rate=1.0, max_faults=2)
    statuses = [(await post_trunk(sandbox, f"t{i}")).status_code for i in range(3)]
    assert statuses[2] == 201
    assert all(status >= 500 for status in statuses[:2])


def test_the_same_seed_injects_the_same_faults_in_the_same_order() -> None:
    def draws(seed: int) -> list[object]:
        faults = Faults(error_rate=0.2, rate_limit_rate=0.2, drop_after_write_rate=0.2, seed=seed)
        return [(faults.draw(), faults.error_status()) for _ in range(200)]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_a_fault_spec_in_the_command_line_form_parses_and_a_wrong_one_is_refused() -> None:
    faults = Faults.parse("error_rate=0.1, rate_limit_rate=0.05,latency_ms=20,drop_after_write_rate=0.05,seed=1")
    assert (faults.error_rate, faults.rate_limit_rate, faults.drop_after_write_rate) == (0.1, 0.05, 0.05)
    assert (faults.latency_ms, faults.seed, faults.retry_after, faults.enabled) == (20.0, 1, 0, True)
    for wrong in ("error_rate", "eror_rate=0.1", "error_rate=lots", "error_rate=0.7,drop_after_write_rate=0.7"):
        with pytest.raises(ValueError, match=r"\S"):
            Faults.parse(wrong)


async def test_a_delete_whose_answer_was_lost_reports_success_when_its_retry_finds_it_gone() -> None:
    sandbox = sandbox_with(drop_after_write_rate=1.0, max_faults=1)
    sandbox.app.state.faults.enabled = False
    async with sandbox_api(sandbox, sleep=no_sleep) as api:
        trunk = await api.trunks.create(name="short-lived")
        sandbox.app.state.faults.enabled = True
        await api.trunks.delete(trunk.id)
    assert "short-lived" not in trunk_names(sandbox)


# ---------------------------------------------------------------- the model of the sandbox's state


@dataclass(frozen=True)
class TrunkFacts:
    managed: bool
    inbound: bool = False
    outbound: bool = False


@dataclass(frozen=True)
class NumberFacts:
    trunk: str  # the trunk's name: purchases create trunks whose id no one knows in advance
    shareable: bool = False
    inbound_version: str | None = None
    outbound_version: str | None = None


@dataclass(frozen=True)
class RoutingFacts:
    enabled: bool
    workflow_id: str | None
    fallback_agent_id: str | None


@dataclass
class Model:
    trunks: dict[str, TrunkFacts]
    numbers: dict[str, NumberFacts]
    routing: RoutingFacts | None

    def canonical(self) -> tuple[object, ...]:
        trunks = sorted((name, facts.managed, facts.inbound, facts.outbound) for name, facts in self.trunks.items())
        numbers = sorted((number, *vars(facts).values()) for number, facts in self.numbers.items())
        return (tuple(trunks), tuple(numbers), self.routing)


def store_state(sandbox: Sandbox) -> tuple[object, ...]:
    """The demo org's state, straight from SQLite, in `Model.canonical` form (duplicate trunks stay visible)."""
    org = sandbox.seed.demo.org_id
    db = sandbox.store.db
    trunks = sorted(
        (row[0], bool(row[1]), bool(row[2]), bool(row[3]))
        for row in db.query(
            "SELECT name, managed_account_id IS NOT NULL, inbound_config IS NOT NULL, outbound_config IS NOT NULL "
            "FROM trunks WHERE org_id = ?",
            (org,),
        )
    )
    numbers = sorted(
        (row[0], row[1], bool(row[2]), row[3], row[4])
        for row in db.query(
            "SELECT p.phone_number, t.name, p.outbound_shareable, p.inbound_agent_version_id, "
            "p.outbound_agent_version_id FROM phone_numbers p JOIN trunks t ON t.id = p.trunk_id WHERE p.org_id = ?",
            (org,),
        )
    )
    row = db.query_one(
        "SELECT enabled, workflow_id, fallback_agent_id FROM inbound_routing_configs WHERE org_id = ?", (org,)
    )
    routing = None if row is None else RoutingFacts(bool(row[0]), row[1], row[2])
    return (tuple(trunks), tuple(numbers), routing)


def model_of(sandbox: Sandbox) -> Model:
    trunks, numbers, routing = store_state(sandbox)
    return Model(
        trunks={name: TrunkFacts(*facts) for name, *facts in trunks},  # type: ignore[misc]
        numbers={number: NumberFacts(*facts) for number, *facts in numbers},  # type: ignore[misc]
        routing=routing,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- operations


@dataclass
class Write:
    """One change, as a tool call and its effect on the model if (and only if) it is applied."""

    kind: str
    tool: str
    arguments: dict[str, Any]
    apply: Callable[[Model], None]
    gated: bool
    idempotent: bool


@dataclass
class Ledger:
    """What the model was told, call by call."""

    calls: int = 0
    outcomes: Counter[str] = field(default_factory=Counter[str])
    writes_done: Counter[str] = field(default_factory=Counter[str])
    unclear_applied: Counter[str] = field(default_factory=Counter[str])
    unclear_not_applied: Counter[str] = field(default_factory=Counter[str])
    bought: set[str] = field(default_factory=set[str])
    wrong: list[str] = field(default_factory=list[str])


def error_text(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))


@dataclass
class Run:
    sandbox: Sandbox
    client: Client
    rng: random.Random
    ledger: Ledger
    model: Model
    fresh_numbers: list[str]
    serial: int = 0

    async def call(self, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        self.ledger.calls += 1
        with anyio.fail_after(CALL_TIMEOUT):
            result = await self.client.call_tool(tool, arguments)
        return result

    def check_error(self, tool: str, text: str) -> None:
        if SAFE in text:
            self.ledger.outcomes["failed: safe to retry"] += 1
        elif UNKNOWN in text:
            self.ledger.outcomes["failed: unknown whether applied"] += 1
        else:
            self.ledger.outcomes["failed: other"] += 1
            self.ledger.wrong.append(f"{tool}: an error that does not say whether a retry is safe: {text}")

    async def read(self, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        before = store_state(self.sandbox)
        result = await self.call(tool, arguments)
        if result.is_error:
            self.check_error(tool, error_text(result))
        else:
            self.ledger.outcomes["read: ok"] += 1
        assert store_state(self.sandbox) == before, f"the read {tool} changed the sandbox"
        return result

    async def write(self, write: Write) -> None:
        arguments = dict(write.arguments)
        if write.gated:
            preview = await self.read(write.tool, arguments)
            if preview.is_error:
                return
            outcome = preview.structured_content or {}
            assert outcome["status"] == "confirmation_required", outcome
            arguments["confirmation_token"] = outcome["confirmation_token"]
        before = self.model.canonical()
        after_model = copy.deepcopy(self.model)
        write.apply(after_model)
        after = after_model.canonical()
        assert before != after, f"{write.kind} would change nothing; the workload is wrong"
        result = await self.call(write.tool, arguments)
        state = store_state(self.sandbox)
        text = error_text(result)
        if not result.is_error:
            assert state == after, f"{write.kind} succeeded but was not applied exactly once"
            self.ledger.writes_done[write.kind] += 1
            self.model = after_model
            if write.kind == "purchase":
                self.ledger.bought.add(write.arguments["phone_number"])
            return
        assert state in (before, after), f"{write.kind} failed ({text}) and left a state neither before nor after it"
        applied = state == after
        self.check_error(write.tool, text)
        if applied and SAFE in text and not write.idempotent:
            self.ledger.wrong.append(f"{write.kind} was applied but the model was told it is safe to retry: {text}")
        (self.ledger.unclear_applied if applied else self.ledger.unclear_not_applied)[write.kind] += 1
        if applied:
            self.model = after_model
            if write.kind == "purchase":
                self.ledger.bought.add(write.arguments["phone_number"])

    def trunk_id(self, name: str) -> str:
        row = self.sandbox.store.db.query_one(
            "SELECT id FROM trunks WHERE name = ? AND org_id = ?", (name, self.sandbox.seed.demo.org_id)
        )
        assert row is not None
        return str(row[0])

    def byoc_trunks(self) -> list[str]:
        return sorted(name for name, facts in self.model.trunks.items() if not facts.managed)

    def name(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix} {self.serial}"


# Each step picks a valid write for the current model (or a read), so that every failure is a fault's.


async def purchase(run: Run) -> None:
    area_code = run.rng.choice(AREA_CODES)
    found = await run.read("search_available_numbers", {"area_code": area_code, "limit": 10})
    if found.is_error:
        return
    offers = [offer["phone_number"] for offer in (found.structured_content or {})["items"]]
    offers = [number for number in offers if number not in run.model.numbers]
    if not offers:
        return
    number = run.rng.choice(offers)

    def bought(model: Model) -> None:
        model.trunks[f"Managed {number}"] = TrunkFacts(managed=True)
        model.numbers[number] = NumberFacts(trunk=f"Managed {number}")

    await run.write(Write("purchase", "purchase_phone_number", {"phone_number": number}, bought, True, False))


async def register(run: Run) -> None:
    number = run.fresh_numbers.pop()
    trunk = run.rng.choice(run.byoc_trunks())
    shareable = run.rng.random() < 0.5

    def registered(model: Model) -> None:
        model.numbers[number] = NumberFacts(trunk=trunk, shareable=shareable)

    arguments = {"phone_number": number, "trunk_id": run.trunk_id(trunk), "outbound_shareable": shareable}
    await run.write(Write("register", "register_phone_number", arguments, registered, False, False))


async def update_sharing(run: Run) -> None:
    number = run.rng.choice(sorted(run.model.numbers))
    shareable = not run.model.numbers[number].shareable

    def shared(model: Model) -> None:
        facts = model.numbers[number]
        model.numbers[number] = NumberFacts(facts.trunk, shareable, facts.inbound_version, facts.outbound_version)

    arguments = {"phone_number": number, "outbound_shareable": shareable}
    await run.write(Write("update sharing", "update_phone_number", arguments, shared, False, True))


async def create_trunk(run: Run) -> None:
    name = run.name("BYOC trunk")
    inbound = run.rng.random() < 0.5
    outbound = run.rng.random() < 0.5
    arguments: dict[str, Any] = {"name": name}
    if inbound:
        arguments["inbound"] = {"allowed_addresses": ["203.0.113.0/24"], "media_encryption": "ALLOW"}
    if outbound:
        arguments["outbound"] = {"address": "sip.carrier.example:5060", "auth_username": "u", "auth_password": "p"}

    def created(model: Model) -> None:
        model.trunks[name] = TrunkFacts(managed=False, inbound=inbound, outbound=outbound)

    await run.write(Write("create trunk", "create_trunk", arguments, created, True, False))


async def rename_trunk(run: Run) -> None:
    old = run.rng.choice(run.byoc_trunks())
    new = run.name("BYOC trunk renamed")

    def renamed(model: Model) -> None:
        model.trunks[new] = model.trunks.pop(old)
        for number, facts in model.numbers.items():
            if facts.trunk == old:
                model.numbers[number] = NumberFacts(new, facts.shareable, facts.inbound_version, facts.outbound_version)

    trunk_id = run.trunk_id(old)
    # An update sends the whole trunk, so the passwords of the SIP auth it keeps are given again.
    trunk = run.sandbox.store.trunks.get(run.sandbox.seed.demo.org_id, trunk_id)
    sides = {"inbound": trunk.inbound_config, "outbound": trunk.outbound_config}
    passwords = {f"{side}_password": "p" for side, config in sides.items() if config and config.auth_username}
    arguments = {"trunk_id": trunk_id, "name": new, **passwords}
    await run.write(Write("update trunk", "update_trunk", arguments, renamed, True, True))


async def delete_trunk(run: Run) -> None:
    used = {facts.trunk for facts in run.model.numbers.values()}
    unused = [name for name in run.byoc_trunks() if name not in used]
    if not unused:
        await create_trunk(run)
        return
    name = run.rng.choice(unused)

    def deleted(model: Model) -> None:
        del model.trunks[name]

    await run.write(Write("delete trunk", "delete_trunk", {"trunk_id": run.trunk_id(name)}, deleted, True, True))


async def routing(run: Run) -> None:
    agents = run.sandbox.seed.demo.agent_ids
    current = run.model.routing
    if current is None:
        config = RoutingFacts(True, run.name("workflow").replace(" ", "-"), run.rng.choice(agents))
        arguments = {"workflow_id": config.workflow_id, "fallback_agent_id": config.fallback_agent_id}
        write = Write("create routing", "create_inbound_routing_config", arguments, set_routing(config), True, False)
    elif run.rng.random() < 0.6:
        config = RoutingFacts(not current.enabled, current.workflow_id, run.rng.choice(agents))
        arguments = {"enabled": config.enabled, "fallback_agent_id": config.fallback_agent_id}
        write = Write("update routing", "update_inbound_routing_config", arguments, set_routing(config), True, True)
    else:
        write = Write("delete routing", "delete_inbound_routing_config", {}, set_routing(None), True, True)
    await run.write(write)


def set_routing(config: RoutingFacts | None) -> Callable[[Model], None]:
    def apply(model: Model) -> None:
        model.routing = config

    return apply


async def publish(run: Run) -> None:
    agent = run.rng.choice(run.sandbox.seed.demo.agent_ids)
    version = run.rng.randint(1, 3)
    direction = run.rng.choice(["inbound", "outbound", "both"])
    numbers = run.rng.sample(sorted(run.model.numbers), k=min(3, len(run.model.numbers)))
    version_id = run.sandbox.store.agents.version_id(run.sandbox.seed.demo.org_id, agent, version)

    def published(model: Model) -> None:
        for number in numbers:
            facts = model.numbers[number]
            inbound = version_id if direction in ("inbound", "both") else facts.inbound_version
            outbound = version_id if direction in ("outbound", "both") else facts.outbound_version
            model.numbers[number] = NumberFacts(facts.trunk, facts.shareable, inbound, outbound)

    probe = copy.deepcopy(run.model)
    published(probe)
    if probe.canonical() == run.model.canonical():
        await update_sharing(run)
        return
    arguments = {"agent_id": agent, "version": version, "phone_numbers": numbers, "direction": direction}
    await run.write(Write("publish", "assign_agent_to_numbers", arguments, published, True, True))


async def read(run: Run) -> None:
    tool, arguments = run.rng.choice(
        [
            ("list_phone_numbers", {"limit": 20}),
            ("list_trunks", {}),
            ("get_inbound_routing_config", {}),
            ("get_phone_number", {"phone_number": run.rng.choice(sorted(run.model.numbers))}),
        ]
    )
    await run.read(tool, arguments)


STEPS: list[tuple[Callable[[Run], Any], int]] = [
    (purchase, 14),
    (register, 12),
    (update_sharing, 12),
    (create_trunk, 10),
    (rename_trunk, 8),
    (delete_trunk, 8),
    (routing, 10),
    (publish, 12),
    (read, 14),
]


def fresh_numbers(rng: random.Random) -> list[str]:
    """Valid numbers outside the managed pool's offer is not guaranteed; the model only registers unowned ones."""
    numbers = {f"+1{area}555{line:04d}" for area in AREA_CODES for line in range(100, 200)}
    valid = sorted(number for number in numbers if _valid(number))
    rng.shuffle(valid)
    return valid


def _valid(number: str) -> bool:
    try:
        return to_e164(number) == number
    except ValueError:
        return False


# ---------------------------------------------------------------- the test


async def test_five_hundred_operations_against_a_faulty_sandbox_lose_nothing_and_do_nothing_twice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    faults = Faults(error_rate=0.08, rate_limit_rate=0.05, drop_after_write_rate=0.06, latency_ms=0.2, seed=SEED)
    sandbox = open_sandbox(":memory:", number_limit=10_000, faults=faults)
    rng = random.Random(SEED)
    ledger = Ledger()
    started = time.perf_counter()
    caplog.set_level(logging.INFO, logger="mcp")
    async with sandbox_api(sandbox, sleep=no_sleep) as api:
        server = build_server(Settings.model_validate({"sandbox": True, "max_purchases": 10_000}), api, sandbox=True)
        async with Client(server, cache=None) as client:
            run = Run(sandbox, client, rng, ledger, model_of(sandbox), fresh_numbers(rng))
            owned = {row[0] for row in sandbox.store.db.query("SELECT phone_number FROM phone_numbers")}
            run.fresh_numbers = [number for number in run.fresh_numbers if number not in owned]
            steps, weights = zip(*STEPS, strict=True)
            for _ in range(OPERATIONS):
                await rng.choices(steps, weights)[0](run)
        elapsed = time.perf_counter() - started

        sandbox.app.state.faults.enabled = False
        await check_final_state(sandbox, api, run)

    print(  # the figures the report quotes, shown with -s
        f"\n{OPERATIONS} operations, {ledger.calls} tool calls in {elapsed:.1f}s;"
        f" faults injected {dict(faults.injected)};"
        f"\noutcomes {dict(ledger.outcomes)};\nwrites done {dict(ledger.writes_done)};"
        f"\nfailed but applied {dict(ledger.unclear_applied)};\nfailed, not applied {dict(ledger.unclear_not_applied)}"
    )
    assert not ledger.wrong, "\n".join(ledger.wrong)
    crashes = [r.getMessage() for r in caplog.records if "unexpected exception" in r.getMessage()]
    assert not crashes
    assert sum(faults.injected.values()) > 100, "the run should have met many faults"
    assert sum(ledger.writes_done.values()) > 150, "the run should have made many changes"


async def check_final_state(sandbox: Sandbox, api: AnyreachClient, run: Run) -> None:
    """With faults off, the API agrees with the model; each purchase is one row on its own managed trunk."""
    assert store_state(sandbox) == run.model.canonical()
    numbers = [number async for number in api.phone_numbers.iter()]
    trunks = {trunk.id: trunk async for trunk in api.trunks.iter()}
    rows = Counter(number.phone_number for number in numbers)
    assert set(rows) == set(run.model.numbers)
    assert all(count == 1 for count in rows.values())
    names = Counter(trunk.name for trunk in trunks.values())
    assert set(names) == set(run.model.trunks)
    assert all(count == 1 for count in names.values())
    carried = Counter(number.trunk_id for number in numbers)
    for number in run.ledger.bought:
        [row] = [row for row in numbers if row.phone_number == number]
        trunk = trunks[row.trunk_id]
        assert trunk.managed_account_id is not None
        assert trunk.name == f"Managed {number}"
        assert carried[trunk.id] == 1
    orphans = [trunk.name for trunk in trunks.values() if trunk.managed_account_id and not carried[trunk.id]]
    assert not orphans, "a purchase left a managed trunk without its number"
    routing = await api.inbound_routing.get()
    assert (routing is None) == (run.model.routing is None)


def test_a_wrong_fault_spec_on_the_command_line_is_a_usage_error_naming_the_problem() -> None:
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--faults", type=faults_argument)
    assert parser.parse_args(["--faults", "error_rate=0.5,seed=2"]).faults == Faults(error_rate=0.5, seed=2)
    with pytest.raises(argparse.ArgumentError, match="eror_rate"):
        parser.parse_args(["--faults", "eror_rate=0.1"])
