"""Each safety check holds at its exact boundary, and its refusal says why (issue 21: no mutant survives).

The tests beside this one show each check refusing something plainly wrong. These put the input right at the
edge (exactly a /8, a write at the mint instant, the last page allowed) or in the form the check must see
through (host bits set, both address families at once), where moving a limit by one or dropping a detail
of the check changes what the human is told.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from mcp_anyreach.api import AnyreachClient, AvailableNumber, IncompleteListError, OutboundConfig, Page, Trunk
from mcp_anyreach.api.pagination import iterate_pages, parse_page
from mcp_anyreach.changes.document_text import ARGUMENT_MAX_BYTES, FILE_MAX_BYTES, check_size, parse_document
from mcp_anyreach.changes.model import MoveIntent, Plan
from mcp_anyreach.changes.store import MOVE_TTL_SECONDS, MemoryPlans, PlanStore, new_plan_id
from mcp_anyreach.domain.networks import too_wide
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.text import NAME_CHARS, clipped, counted, listed, named, neutral, shown
from mcp_anyreach.server.gate.audit_log import AuditLog, AuditUnavailable
from mcp_anyreach.server.gate.tokens import ConfirmationError, Preview, TokenSigner
from mcp_anyreach.shared_state.budget import MemoryPurchaseBudget, SqlitePurchaseBudget
from mcp_anyreach.shared_state.offers import MemoryOffers
from mcp_anyreach.shared_state.plans import SqlitePlans
from mcp_anyreach.shared_state.purchases import Purchases
from mcp_anyreach.shared_state.used_tokens import MemoryUsedTokens, SqliteUsedTokens, UsedTokens
from tests.reliability.live import data, texts
from tests.server.conftest import ServerFactory, api, connect, make_server, sandbox

__all__ = ["api", "make_server", "sandbox"]  # fixtures shared with tests/server

WARNED = "WARNING: with no authentication, anyone at"


# Network width: what previews and the audit call "open to the Internet".


@pytest.mark.parametrize(
    ("addresses", "phrase"),
    [
        (["10.0.0.0/8"], None),
        (["10.0.0.0/8", "11.0.0.1"], "about 0% of all IPv4 addresses"),
        (["2001::/32"], None),
        (["2001::/31"], "about 0% of all IPv6 addresses"),
    ],
    ids=["exactly-a-slash-8", "one-address-past-a-slash-8", "exactly-a-slash-32", "twice-a-slash-32"],
)
def test_a_network_is_too_wide_only_past_a_slash_8_or_a_slash_32(addresses: list[str], phrase: str | None) -> None:
    assert too_wide(addresses) == phrase


@pytest.mark.parametrize(
    ("addresses", "phrase"),
    [
        (["10.1.2.3/7"], "about 1% of all IPv4 addresses"),
        (["192.0.2.77/1"], "about 50% of all IPv4 addresses"),
        (["2001:db8::1/16"], "about 0% of all IPv6 addresses"),
    ],
)
def test_a_wide_network_written_with_host_bits_set_is_still_too_wide(addresses: list[str], phrase: str) -> None:
    assert too_wide(addresses) == phrase


@pytest.mark.parametrize(
    ("addresses", "phrase"),
    [
        (["0.0.0.0/2"], "about 25% of all IPv4 addresses"),
        (["0.0.0.0/1", "128.0.0.0/2"], "about 75% of all IPv4 addresses"),
        (["0.0.0.0/1", "128.0.0.0/1"], "all IPv4 addresses"),
        (["0.0.0.0/0", "::/0"], "all IPv4 addresses and all IPv6 addresses"),
        (["0.0.0.0/1", "8000::/1"], "about 50% of all IPv4 addresses and about 50% of all IPv6 addresses"),
        ([], "every address (allowed_addresses is empty)"),
        (["not an address"], "every address (allowed_addresses is empty)"),
        (["not an address", "0.0.0.0/1", "128.0.0.0/1"], "all IPv4 addresses"),
        (["not an address", "198.51.100.0/24"], None),
    ],
)
def test_a_too_wide_network_is_described_by_the_share_of_the_internet_it_admits(
    addresses: list[str], phrase: str | None
) -> None:
    assert too_wide(addresses) == phrase


async def test_a_trunk_opened_to_exactly_a_slash_8_is_not_warned_but_one_address_more_is(
    make_server: ServerFactory, api: AnyreachClient
) -> None:
    trunk = await api.trunks.create(name="Carrier")
    async with connect(make_server(), "legacy") as client:
        exact = data(
            await client.call_tool(
                "update_trunk", {"trunk_id": trunk.id, "inbound": {"allowed_addresses": ["10.0.0.0/8"]}}
            )
        )
        wider = data(
            await client.call_tool(
                "update_trunk",
                {"trunk_id": trunk.id, "inbound": {"allowed_addresses": ["10.0.0.0/8", "11.0.0.1"]}},
            )
        )
    assert WARNED not in exact["message"]
    assert f"{WARNED} about 0% of all IPv4 addresses could send calls" in wider["message"]


# The used-token record (issue 21 rows 3-5): its contract, on each store, at the edges of time.

STORES = ["memory", "sqlite"]


def _store(kind: str, tmp_path: Path) -> UsedTokens:
    return MemoryUsedTokens() if kind == "memory" else SqliteUsedTokens(tmp_path / "used.db")


@pytest.mark.parametrize("kind", STORES)
async def test_a_used_token_counts_as_used_up_to_and_including_its_expiry_instant(kind: str, tmp_path: Path) -> None:
    store = _store(kind, tmp_path)
    assert await store.first_use("nonce-1", now=100.0) is None
    assert await store.claim("nonce-1", expires_at=200.0, now=100.0) == "fresh"
    assert await store.first_use("nonce-1", now=150.0) is not None
    assert await store.first_use("nonce-1", now=200.0) is not None
    assert await store.first_use("nonce-2", now=150.0) is None
    assert await store.claim("nonce-1", expires_at=200.0, now=200.0) == "used"
    assert await store.first_use("nonce-1", now=200.5) is None


@pytest.mark.parametrize("kind", STORES)
async def test_a_write_at_the_mint_instant_or_later_makes_a_token_stale_and_an_earlier_one_does_not(
    kind: str, tmp_path: Path
) -> None:
    store = _store(kind, tmp_path)
    await store.touch(["number:+14155550100"], now=100.0, keep_until=500.0)
    assert await store.claim("before", 400.0, now=120.0, targets=["number:+14155550100"], minted_at=100.5) == "fresh"
    await store.touch(["number:+14155550101"], now=130.0, keep_until=500.0)
    assert await store.claim("same", 400.0, now=140.0, targets=["number:+14155550101"], minted_at=130.0) == "stale"


@pytest.mark.parametrize("kind", STORES)
async def test_a_redeemed_token_makes_every_other_token_on_its_targets_stale_until_its_own_expiry(
    kind: str, tmp_path: Path
) -> None:
    store = _store(kind, tmp_path)
    targets = ["trunk:trk_1"]
    assert await store.claim("first", 200.0, now=100.0, targets=targets, minted_at=90.0) == "fresh"
    assert await store.claim("second", 300.0, now=200.0, targets=targets, minted_at=95.0) == "stale"
    assert await store.claim("third", 300.0, now=200.5, targets=targets, minted_at=95.0) == "fresh"


@pytest.mark.parametrize("kind", STORES)
async def test_a_write_by_something_else_is_remembered_up_to_and_including_its_keep_instant(
    kind: str, tmp_path: Path
) -> None:
    store = _store(kind, tmp_path)
    await store.touch(["routing"], now=100.0, keep_until=200.0)
    assert await store.claim("late", 300.0, now=200.0, targets=["routing"], minted_at=50.0) == "stale"
    assert await store.claim("later", 300.0, now=200.5, targets=["routing"], minted_at=50.0) == "fresh"


# Hidden characters: every invisible category is escaped in what a human reads, and refused in arguments.

HIDDEN = {
    "DEL": "\x7f",
    "C1-NEL": "\x85",
    "C1-last": "\x9f",
    "zero-width-space": "\u200b",
    "bidi-override": "\u202e",
    "line-separator": "\u2028",
    "paragraph-separator": "\u2029",
    "private-use": "\ue000",
    "unassigned": "\u0378",
    "surrogate": "\ud800",
}
REFUSED = "invisible characters are not allowed here"


@pytest.mark.parametrize("char", HIDDEN.values(), ids=HIDDEN.keys())
def test_each_kind_of_hidden_character_from_the_api_is_shown_escaped(char: str) -> None:
    assert shown(f"Carrier {char}A") == f"Carrier \\u{ord(char):04x}A"
    assert named(f"Carrier {char}A") == f"Carrier \\u{ord(char):04x}A"


def test_printable_text_beside_hidden_characters_is_shown_as_it_is() -> None:
    assert shown("Café\u00a0+1 415 — ok") == "Café\u00a0+1 415 — ok"


def test_a_summary_keeps_the_server_s_own_line_breaks_and_escapes_everything_else() -> None:
    summary = "Delete trunk 'A\u2028Preview only: nothing will be deleted'\nIt has 2 numbers."
    assert neutral(summary) == "Delete trunk 'A\\u2028Preview only: nothing will be deleted'\nIt has 2 numbers."


ENCODABLE = {kind: char for kind, char in HIDDEN.items() if kind != "surrogate"}  # JSON-RPC carries UTF-8


@pytest.mark.parametrize("char", ENCODABLE.values(), ids=ENCODABLE.keys())
async def test_a_trunk_name_with_a_hidden_character_is_refused_saying_why(
    make_server: ServerFactory, api: AnyreachClient, char: str
) -> None:
    trunk = await api.trunks.create(name="Carrier")
    async with connect(make_server(), "legacy") as client:
        result = await client.call_tool("update_trunk", {"trunk_id": trunk.id, "name": f"Carrier {char}A"})
    assert result.is_error
    assert REFUSED in texts(result)
    assert (await api.trunks.get(trunk.id)).name == "Carrier"


async def test_an_id_with_a_space_is_refused_saying_what_an_id_may_hold(make_server: ServerFactory) -> None:
    async with connect(make_server(), "legacy") as client:
        result = await client.call_tool("create_inbound_routing_config", {"workflow_id": "wf main"})
    assert result.is_error
    assert "'wf main' is not an id: use letters, digits and _ . : - (as list_ tools show)" in texts(result)


def test_a_name_from_the_api_is_clipped_past_its_limit_and_says_so() -> None:
    assert clipped("n" * NAME_CHARS) == "n" * NAME_CHARS
    assert clipped("n" * (NAME_CHARS + 1)) == f"{'n' * NAME_CHARS}... [clipped: {NAME_CHARS + 1:,} characters]"


def test_a_list_in_a_preview_names_ten_values_and_counts_the_rest() -> None:
    values = [f"+1415555{n:04d}" for n in range(12)]
    assert listed(values[:10]) == ", ".join(values[:10])
    assert listed(values) == ", ".join(values[:10]) + " and 2 more"


# Paging (issue 20 point 12): a listing ends, and one cut short or circling says so.


def _listing(cursors: list[str | None]) -> Callable[[str | None], Awaitable[Page[Trunk]]]:
    """Page n answers one trunk and cursors[n] as its next cursor."""
    asked: list[str | None] = []

    async def fetch(cursor: str | None) -> Page[Trunk]:
        asked.append(cursor)
        return Page[Trunk](items=[Trunk(id=f"trk_{len(asked)}", name="T")], next_cursor=cursors[len(asked) - 1])

    return fetch


async def test_a_listing_of_exactly_the_page_cap_is_read_whole() -> None:
    cursors: list[str | None] = [f"c{n}" for n in range(1, 5)] + [None]
    trunks = [trunk.id async for trunk in iterate_pages(_listing(cursors), "trunks", max_pages=5)]
    assert trunks == [f"trk_{n}" for n in range(1, 6)]


async def test_a_listing_one_page_past_the_cap_is_stopped_saying_it_is_incomplete() -> None:
    cursors: list[str | None] = [f"c{n}" for n in range(1, 7)] + [None]
    with pytest.raises(IncompleteListError) as refused:
        [trunk async for trunk in iterate_pages(_listing(cursors), "trunks", max_pages=5)]
    assert str(refused.value) == (
        "the Anyreach API's list of trunks went on past 5 pages, so it was stopped there and is incomplete"
    )


async def test_a_cursor_given_twice_stops_the_listing_naming_the_cursor_and_the_pages_read() -> None:
    with pytest.raises(IncompleteListError) as refused:
        [trunk async for trunk in iterate_pages(_listing(["A", "B", "A", None]), "trunks")]
    assert str(refused.value) == (
        "the Anyreach API gave the cursor 'A' twice while listing trunks (after 3 pages): its pages go round in "
        "a circle, so the list of trunks is incomplete"
    )


@pytest.mark.parametrize(
    ("rows", "cursor_seen", "incomplete"),
    [(3, False, True), (2, False, False), (3, True, False)],
    ids=["full-page-no-cursor", "short-page", "full-page-after-cursors-were-seen"],
)
def test_a_full_page_without_a_cursor_may_be_incomplete_until_the_service_has_shown_cursors(
    rows: int, cursor_seen: bool, incomplete: bool
) -> None:
    body = [{"id": f"trk_{n}", "name": "T"} for n in range(rows)]
    response = httpx2.Response(200, json=body, request=httpx2.Request("GET", "http://api.test/trunks"))
    page = parse_page(response, Trunk, limit=3, cursor_seen=cursor_seen)
    assert page.possibly_incomplete is incomplete
    assert page.next_cursor is None


# The purchase budget (issue 20 point 10, issue 21 rows 13 and 14): counted to the instant, refused saying why.

DAY = 86400.0
EXHAUSTED = (
    "The organization has reached its purchase limit ({limit}, counted across every replica); nothing was bought."
)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _purchases(kind: str, tmp_path: Path, limit: int, window: float, clock: Clock) -> Purchases:
    budget = (
        MemoryPurchaseBudget(limit, window)
        if kind == "memory"
        else SqlitePurchaseBudget(tmp_path / "state.db", limit, window)
    )
    return Purchases(budget, MemoryOffers(), clock)


@pytest.mark.parametrize("kind", STORES)
async def test_the_last_purchase_of_the_budget_is_allowed_and_the_next_refused_saying_the_limit(
    kind: str, tmp_path: Path
) -> None:
    purchases = _purchases(kind, tmp_path, 2, DAY, Clock(1_000.0))
    assert await purchases.remaining() == 2
    await purchases.reserve()
    assert await purchases.remaining() == 1
    await purchases.reserve()
    for refused_step in (purchases.remaining, purchases.reserve):
        with pytest.raises(Refusal) as refused:
            await refused_step()
        assert EXHAUSTED.format(limit="2 per 1 d") in str(refused.value)


@pytest.mark.parametrize("kind", STORES)
async def test_a_purchase_counts_until_the_end_of_its_window_instant_included(kind: str, tmp_path: Path) -> None:
    clock = Clock(1_000.0)
    purchases = _purchases(kind, tmp_path, 1, 3600.0, clock)
    await purchases.reserve()
    clock.now = 1_000.0 + 3600.0
    with pytest.raises(Refusal, match=r"purchase limit \(1 per 1 h"):
        await purchases.remaining()
    with pytest.raises(Refusal, match=r"purchase limit \(1 per 1 h"):
        await purchases.reserve()
    clock.now += 0.5
    assert await purchases.remaining() == 1
    await purchases.reserve()


@pytest.mark.parametrize("kind", STORES)
async def test_a_released_slot_can_be_bought_again(kind: str, tmp_path: Path) -> None:
    purchases = _purchases(kind, tmp_path, 1, DAY, Clock(1_000.0))
    await purchases.release(await purchases.reserve())
    assert await purchases.remaining() == 1
    await purchases.reserve()


@pytest.mark.parametrize(
    ("window", "said"), [(DAY, "1 per 1 d"), (7200.0, "1 per 2 h"), (120.0, "1 per 2 min"), (90.0, "1 per 90 s")]
)
def test_the_purchase_limit_is_stated_in_the_window_s_own_unit(window: float, said: str) -> None:
    assert Purchases(MemoryPurchaseBudget(1, window), MemoryOffers()).limit_text == said


async def test_a_budget_that_cannot_be_reached_buys_nothing_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    purchases = Purchases(SqlitePurchaseBudget(path, 5, DAY, timeout=0.2), MemoryOffers())
    holder = sqlite3.connect(path, isolation_level=None)  # another replica in the middle of a write
    holder.execute("BEGIN IMMEDIATE")
    try:
        for step in (purchases.remaining, purchases.reserve):
            with pytest.raises(Refusal) as refused:
                await step()
            assert "cannot be reached right now, so nothing was bought" in str(refused.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert await purchases.remaining() == 5


def test_a_count_in_a_preview_is_singular_only_for_one() -> None:
    assert [counted(n, "number") for n in (0, 1, 2)] == ["0 numbers", "1 number", "2 numbers"]
    assert [counted(n, "number is", "numbers are") for n in (1, 2)] == ["1 number is", "2 numbers are"]


async def test_a_long_id_that_is_refused_is_quoted_only_by_its_first_40_characters(make_server: ServerFactory) -> None:
    workflow_id = "w" * 40 + " and more that the human need not read"
    async with connect(make_server(), "legacy") as client:
        result = await client.call_tool("create_inbound_routing_config", {"workflow_id": workflow_id})
    assert result.is_error
    assert f"'{'w' * 40}' is not an id" in texts(result)


# Documents (issue 20 point 7): bounded to the byte, read as written.


def _padded(size: int, pad: str = "x") -> str:
    """A valid document of exactly `size` bytes (UTF-8): a section, then a comment filling the rest."""
    head = "numbers: {}\n# "
    return head + pad * ((size - len(head.encode())) // len(pad.encode()))


@pytest.mark.parametrize(
    ("from_file", "limit", "reason"),
    [
        (False, ARGUMENT_MAX_BYTES, "at most 262,144 (256 KiB) are accepted here"),
        (True, FILE_MAX_BYTES, "at most 4,194,304 (4096 KiB) are accepted here"),
    ],
    ids=["tool-argument", "command-line-file"],
)
def test_a_document_of_exactly_the_limit_is_read_and_one_byte_more_is_refused_saying_the_limit(
    from_file: bool, limit: int, reason: str
) -> None:
    assert parse_document(_padded(limit), from_file=from_file) == {"numbers": {}}
    with pytest.raises(Refusal) as refused:
        parse_document(_padded(limit) + "x", from_file=from_file)
    assert f"The desired state is {limit + 1:,} bytes; {reason}" in str(refused.value)


def test_a_document_is_measured_in_bytes_not_characters() -> None:
    document = _padded(ARGUMENT_MAX_BYTES + 2, pad="é")
    assert len(document) < ARGUMENT_MAX_BYTES
    with pytest.raises(Refusal, match="at most 262,144"):
        parse_document(document)


def test_a_document_given_as_a_mapping_is_measured_like_its_json_text() -> None:
    small: dict[str, Any] = {"numbers": {"items": [], "note": "é" * 1000}}
    assert parse_document(small) == small
    with pytest.raises(Refusal, match="at most 262,144"):
        parse_document({"numbers": {"note": "é" * (ARGUMENT_MAX_BYTES // 2)}})


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("numbers: &kept {}\n", "anchors and aliases (&name, *name) are not accepted: write each value out"),
        ("trunks:\n  <<: {prune: true}\n", "merge keys (<<) are not accepted"),
        ("routing:\n  workflow_id: wf_a\n  workflow_id: wf_b\n", "the key 'workflow_id' is given twice"),
        ("numbers: {prune: false\n", "not valid YAML or JSON"),
        ("- numbers\n", "must be a mapping with trunks, numbers and/or routing"),
    ],
    ids=["unused-anchor", "merge-key", "nested-duplicate-key", "broken-flow", "a-list"],
)
def test_a_document_that_is_not_read_as_written_is_refused_saying_why(document: str, reason: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_document(document)
    assert reason in str(refused.value)


def test_a_document_that_is_not_yaml_says_where() -> None:
    with pytest.raises(Refusal) as refused:
        parse_document("numbers:\n  items: [a\n  prune: true\n")
    assert str(refused.value).startswith("The desired state is not valid YAML or JSON: ")
    assert "(line 3, column " in str(refused.value)


# Plans per caller (issue 20 point 14): kept to the second, newest first, even when saved in the same instant.


def _plans(kind: str, tmp_path: Path, clock: Clock, **limits: int) -> PlanStore:
    if kind == "memory":
        return MemoryPlans(clock=clock, **limits)
    return SqlitePlans(tmp_path / "state.db", clock=clock, **limits)


def _a_plan() -> Plan:
    return Plan(id=new_plan_id(), steps=[], impact=[], basis={})


@pytest.mark.parametrize("kind", STORES)
async def test_a_plan_can_be_applied_up_to_and_including_its_expiry_instant(kind: str, tmp_path: Path) -> None:
    clock = Clock(1_000.0)
    store = _plans(kind, tmp_path, clock, ttl_seconds=60)
    first, second = _a_plan(), _a_plan()
    await store.save(first)
    await store.save(second)
    clock.now = 1_060.0
    assert await store.load(first.id) == first
    assert await store.take(first.id) == first
    clock.now = 1_060.5
    assert await store.take(second.id) is None
    assert await store.load(second.id) is None


@pytest.mark.parametrize("kind", STORES)
async def test_plans_saved_in_one_instant_beyond_a_caller_s_quota_drop_only_that_caller_s_oldest(
    kind: str, tmp_path: Path
) -> None:
    store = _plans(kind, tmp_path, Clock(1_000.0), quota=3, capacity=10)
    admins = _a_plan()
    await store.save(admins, "admin")
    readers = [_a_plan() for _ in range(5)]
    for plan in readers:
        await store.save(plan, "reader")
    assert [await store.load(plan.id) for plan in readers] == [None, None, *readers[2:]]
    assert await store.load(admins.id) == admins


@pytest.mark.parametrize("kind", STORES)
async def test_plans_saved_in_one_instant_beyond_the_capacity_drop_the_oldest(kind: str, tmp_path: Path) -> None:
    store = _plans(kind, tmp_path, Clock(1_000.0), quota=10, capacity=3)
    plans = [_a_plan() for _ in range(4)]
    for n, plan in enumerate(plans):
        await store.save(plan, f"caller-{n}")
    assert [await store.load(plan.id) for plan in plans] == [None, *plans[1:]]


@pytest.mark.parametrize("kind", STORES)
async def test_an_unfinished_move_is_kept_seven_days_to_the_second_unless_forgotten(kind: str, tmp_path: Path) -> None:
    clock = Clock(1_000.0)
    store = _plans(kind, tmp_path, clock)
    intent = MoveIntent(phone_number="+12125550131", from_trunk_id="trk_a", trunk_id="trk_b", outbound_shareable=True)
    other = intent.model_copy(update={"phone_number": "+12125550132"})
    await store.remember_moves({intent.phone_number: intent, other.phone_number: other})
    await store.forget_moves([other.phone_number])
    clock.now = 1_000.0 + MOVE_TTL_SECONDS
    assert await store.moves() == {intent.phone_number: intent}
    clock.now += 0.5
    assert await store.moves() == {}


# Confirmation tokens: every refusal says why and how to get a good token (issue 21 rows 1-5).

AGAIN = "Call delete_trunk again without confirmation_token to get a fresh preview and token."
TRUNK = {"trunk_id": "trk_1"}
SEEN = Preview("Delete trunk trk_1", "state-at-preview", ("anyreach://trunks/trk_1",))


def _signer(clock: Clock, audience: str = "org-1") -> TokenSigner:
    return TokenSigner(b"k" * 32, clock=clock, audience=audience)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("audience", "This confirmation token was issued for another account or server."),
        ("tool", "This confirmation token was issued for another tool."),
        ("arguments", "The arguments differ from the ones that were previewed."),
        ("binding", "This confirmation token was issued to another session or caller; a token works only where"),
        ("state", "What this call touches has changed since the preview."),
        ("expiry", "This confirmation token has expired."),
    ],
)
async def test_a_refused_token_says_why_and_how_to_get_a_fresh_one(change: str, reason: str) -> None:
    clock = Clock(1_000.0)
    signer = _signer(clock)
    token = (_signer(clock, "org-2") if change == "audience" else signer).mint("delete_trunk", TRUNK, SEEN, "session:1")
    tool = "update_trunk" if change == "tool" else "delete_trunk"
    arguments = {"trunk_id": "trk_2"} if change == "arguments" else TRUNK
    binding = "session:2" if change == "binding" else "session:1"
    preview = Preview(SEEN.summary, "state-now", SEEN.targets) if change == "state" else SEEN
    clock.now += 301 if change == "expiry" else 1
    with pytest.raises(ConfirmationError) as refused:
        await signer.redeem(token, tool, arguments, preview, binding)
    assert reason in str(refused.value)
    assert str(refused.value).endswith(AGAIN.replace("delete_trunk", tool))


async def test_a_token_is_good_up_to_its_expiry_second_and_then_refused_as_used() -> None:
    clock = Clock(1_000.0)
    signer = _signer(clock)
    token = signer.mint("delete_trunk", TRUNK, SEEN, "session:1")
    clock.now = 1_300.0
    await signer.redeem(token, "delete_trunk", TRUNK, SEEN, "session:1")
    with pytest.raises(ConfirmationError) as refused:
        await signer.redeem(token, "delete_trunk", TRUNK, SEEN, "session:1")
    assert str(refused.value) == f"This confirmation token was already used. {AGAIN}"


async def test_a_token_is_refused_as_stale_after_another_write_of_what_it_touches() -> None:
    clock = Clock(1_000.0)
    signer = _signer(clock)
    token = signer.mint("delete_trunk", TRUNK, SEEN, "session:1")
    await signer.record_write(SEEN.targets)
    with pytest.raises(ConfirmationError) as refused:
        await signer.redeem(token, "delete_trunk", TRUNK, SEEN, "session:1")
    assert str(refused.value) == f"What this call touches was changed by another call since the preview. {AGAIN}"


# The audit log (issue 21 rows 6-8): private to its owner, never silently short, never holding a secret.

SIP_PASSWORD = "sip-pass-Zq81-unique"


def test_the_audit_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    usual = os.umask(0o022)  # the common default, which leaves new files readable by everyone
    try:
        AuditLog(log).check()
    finally:
        os.umask(usual)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_an_audit_file_that_cannot_be_written_stops_a_write_and_names_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    where = tmp_path / "a-directory"
    where.mkdir()
    audit = AuditLog(where)
    with pytest.raises(AuditUnavailable, match=re.escape(str(where))):
        audit.check()
    with pytest.raises(AuditUnavailable, match=re.escape(str(where))):
        audit.record("delete_trunk", TRUNK, outcome="attempted", via=None, required=True)
    caplog.set_level(logging.ERROR)
    audit.record("delete_trunk", TRUNK, outcome="done", via=None)
    [failed] = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert failed.startswith(f"AUDIT LOG FAILED, this line is missing from {where}: {{")
    assert '"outcome":"done"' in failed
    assert failed.endswith(f"({where}: Is a directory)")


def test_every_audit_line_is_also_logged_whole(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    log = tmp_path / "audit.jsonl"
    caplog.set_level(logging.INFO, logger="mcp_anyreach.audit")
    AuditLog(log).record("delete_trunk", TRUNK, outcome="attempted", via="token", call="c1")
    [line] = log.read_text().splitlines()
    assert [record.getMessage() for record in caplog.records] == [f"audit {line}"]


def test_an_audit_line_names_the_caller_and_redacts_secrets_in_models_and_tuples(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    secret = SecretStr(SIP_PASSWORD)
    outbound = OutboundConfig(address="sip.carrier.example", auth_username="acme", auth_password=secret)
    arguments = {"outbound": outbound, "pair": (SecretStr(SIP_PASSWORD), "kept"), "auth_password": None}
    AuditLog(log, caller=lambda: "alice@example.com").record("update_trunk", arguments, outcome="attempted", via="yes")
    [entry] = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["caller"] == "alice@example.com"
    assert entry["confirmation"] == "yes"
    assert entry["arguments"] == {
        "outbound": {"address": "sip.carrier.example", "auth_username": "acme", "auth_password": "[redacted]"},
        "pair": ["[redacted]", "kept"],
        "auth_password": None,
    }
    assert SIP_PASSWORD not in log.read_text()


@pytest.mark.parametrize("kind", STORES)
async def test_only_purchases_older_than_the_window_free_their_slots(kind: str, tmp_path: Path) -> None:
    clock = Clock(1_000.0)
    purchases = _purchases(kind, tmp_path, 2, 100.0, clock)
    await purchases.reserve()
    clock.now = 1_090.0
    await purchases.reserve()
    clock.now = 1_150.0
    assert await purchases.remaining() == 1
    await purchases.reserve()
    with pytest.raises(Refusal, match="purchase limit"):
        await purchases.reserve()


@pytest.mark.parametrize("kind", STORES)
async def test_a_refused_purchase_whose_slot_already_left_the_window_is_released_quietly(
    kind: str, tmp_path: Path
) -> None:
    clock = Clock(1_000.0)
    purchases = _purchases(kind, tmp_path, 1, 60.0, clock)
    slow = await purchases.reserve()
    clock.now = 1_100.0
    assert await purchases.remaining() == 1
    await purchases.release(slow)
    assert await purchases.remaining() == 1


async def test_a_bought_number_is_no_longer_recalled_as_an_offer() -> None:
    purchases = Purchases(MemoryPurchaseBudget(1, DAY), MemoryOffers())
    bought, other = AvailableNumber(phone_number="+14155550177"), AvailableNumber(phone_number="+14155550178")
    await purchases.remember([bought, other])
    await purchases.forget(bought.phone_number)
    assert await purchases.recall(bought.phone_number) is None
    assert await purchases.recall(other.phone_number) == other


async def test_a_token_accepts_the_previewed_arguments_in_any_order() -> None:
    signer = _signer(Clock(1_000.0))
    arguments = {"trunk_id": "trk_1", "name": "Carrier", "inbound": {"allowed_addresses": ["198.51.100.1"]}}
    token = signer.mint("update_trunk", arguments, SEEN, "session:1")
    reordered = {"inbound": {"allowed_addresses": ["198.51.100.1"]}, "name": "Carrier", "trunk_id": "trk_1"}
    await signer.redeem(token, "update_trunk", reordered, SEEN, "session:1")


async def test_a_token_for_one_trunk_password_does_not_confirm_another() -> None:
    signer = _signer(Clock(1_000.0))

    def outbound(password: str) -> dict[str, object]:
        config = OutboundConfig(address="sip.carrier.example", auth_username="acme", auth_password=SecretStr(password))
        return {"trunk_id": "trk_1", "outbound": config, "verify": SecretStr(password)}

    token = signer.mint("update_trunk", outbound(SIP_PASSWORD), SEEN, "session:1")
    with pytest.raises(ConfirmationError, match="The arguments differ from the ones that were previewed"):
        await signer.redeem(token, "update_trunk", outbound("another-password"), SEEN, "session:1")
    await signer.redeem(token, "update_trunk", outbound(SIP_PASSWORD), SEEN, "session:1")


@pytest.mark.parametrize(
    ("rows", "has_more", "incomplete"),
    [(1, True, True), (3, False, False), (3, None, True)],
    ids=["short-page-with-more", "full-page-with-no-more", "full-page-saying-nothing"],
)
def test_a_page_without_a_cursor_is_incomplete_when_the_service_says_there_is_more(
    rows: int, has_more: bool | None, incomplete: bool
) -> None:
    body = {"data": [{"id": f"trk_{n}", "name": "T"} for n in range(rows)], "has_more": has_more}
    response = httpx2.Response(200, json=body, request=httpx2.Request("GET", "http://api.test/trunks"))
    assert parse_page(response, Trunk, limit=3).possibly_incomplete is incomplete


@pytest.mark.parametrize(
    ("document", "refusal"),
    [
        (
            "numbers: &kept {}\n",
            "anchors and aliases (&name, *name) are not accepted: write each value out (line 1, column 10).",
        ),
        ("trunks:\n  <<: {prune: true}\n", "merge keys (<<) are not accepted (line 2, column 3)."),
        (
            "routing:\n  workflow_id: wf_a\n  workflow_id: wf_b\n",
            "the key 'workflow_id' is given twice (line 3, column 3).",
        ),
        ("numbers:\n  items: [a\n  prune: true\n", "expected ',' or ']', but got ':' (line 3, column 8)."),
    ],
    ids=["anchor", "merge-key", "duplicate-key", "broken-flow"],
)
def test_a_refused_document_is_answered_with_the_problem_and_where_it_is(document: str, refusal: str) -> None:
    with pytest.raises(Refusal) as refused:
        parse_document(document)
    assert str(refused.value) == f"The desired state is not valid YAML or JSON: {refusal}"


def test_a_document_nested_too_deeply_is_refused_saying_so() -> None:
    with pytest.raises(Refusal) as refused:
        parse_document("[" * 100_000)
    assert str(refused.value) == "The desired state is nested too deeply to be a desired-state document."


def test_a_file_over_its_limit_is_refused_saying_how_to_split_it_and_an_argument_where_to_take_it() -> None:
    with pytest.raises(Refusal) as file_refused:
        check_size(FILE_MAX_BYTES + 1, from_file=True)
    with pytest.raises(Refusal) as argument_refused:
        check_size(ARGUMENT_MAX_BYTES + 1, from_file=False)
    assert str(file_refused.value).endswith(
        "Sections left out are not touched, so split the file by section (trunks, numbers, routing) and plan each."
    )
    assert str(argument_refused.value).endswith(
        "so plan trunks, numbers and routing in separate calls, or run `mcp-anyreach plan` on a file (up to 4 MiB)."
    )


def test_a_date_in_a_document_is_read_as_the_text_that_was_written() -> None:
    assert parse_document("numbers:\n  note: 2026-01-01\n") == {"numbers": {"note": "2026-01-01"}}
