from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from mcp_anyreach.sandbox import DemoSeed, SandboxStore, create_app
from mcp_anyreach.sandbox.seed import load_or_create_seed
from mcp_anyreach.sandbox.store import ListFilter

from .sandbox_helpers import key

START = datetime(2026, 11, 1, tzinfo=UTC)


def ticking_clock() -> Callable[[], datetime]:
    """Each reading is one minute after the previous one."""
    moments = (START + timedelta(minutes=step) for step in range(1_000_000))
    return lambda: next(moments)


@pytest.fixture
def store() -> SandboxStore:
    return SandboxStore(":memory:", clock=ticking_clock())


@pytest.fixture
async def http(store: SandboxStore) -> AsyncIterator[httpx2.AsyncClient]:
    load_or_create_seed(store)
    transport = httpx2.ASGITransport(app=create_app(store, number_limit=500))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


async def walk(http: httpx2.AsyncClient, seed: DemoSeed, path: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    params: dict[str, str | int] = {"limit": limit}
    while True:
        response = await http.get(path, headers=key(seed.demo), params=params)
        assert response.status_code == 200
        pages.append([row.get("phone_number") or row["id"] for row in response.json()])
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            return pages
        params["cursor"] = cursor


async def test_pages_cover_every_number_once_in_creation_order(http: httpx2.AsyncClient, store: SandboxStore) -> None:
    seed = load_or_create_seed(store)
    store.bulk_add_numbers(seed.demo.org_id, seed.demo.byoc_trunk_id, 40)
    pages = await walk(http, seed, "/core/phone-numbers", limit=10)
    numbers = [number for page in pages for number in page]
    assert [len(page) for page in pages] == [10, 10, 10, 10, 5]
    assert len(numbers) == len(set(numbers)) == 45
    expected = [row.phone_number for row in store.phone_numbers.list(seed.demo.org_id, _all()).items]
    assert numbers == expected


async def test_rows_sharing_a_timestamp_page_without_gaps(http: httpx2.AsyncClient, store: SandboxStore) -> None:
    seed = load_or_create_seed(store)
    store.bulk_add_numbers(seed.demo.org_id, seed.demo.byoc_trunk_id, 25)  # one timestamp for all 25
    pages = await walk(http, seed, "/core/phone-numbers", limit=7)
    numbers = [number for page in pages for number in page]
    assert len(pages) == 5
    assert len(numbers) == len(set(numbers)) == 30


async def test_the_last_page_has_no_next_cursor(http: httpx2.AsyncClient, store: SandboxStore) -> None:
    response = await http.get("/core/phone-numbers", headers=key(load_or_create_seed(store).demo), params={"limit": 5})
    assert len(response.json()) == 5
    assert "X-Next-Cursor" not in response.headers


async def test_trunks_page_too(http: httpx2.AsyncClient, store: SandboxStore) -> None:
    seed = load_or_create_seed(store)
    for index in range(5):
        body = {"name": f"Branch {index}"}
        assert (await http.post("/core/trunks", headers=key(seed.demo), json=body)).status_code == 201
    pages = await walk(http, seed, "/core/trunks", limit=3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert len({trunk for page in pages for trunk in page}) == 7


@pytest.mark.parametrize("limit", [0, 101, "many"])
async def test_a_limit_out_of_range_is_refused_with_422(
    http: httpx2.AsyncClient, store: SandboxStore, limit: int | str
) -> None:
    response = await http.get(
        "/core/phone-numbers", headers=key(load_or_create_seed(store).demo), params={"limit": limit}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGpzb24", "WzEsMl0"])
async def test_a_bad_cursor_is_refused_with_400(http: httpx2.AsyncClient, store: SandboxStore, cursor: str) -> None:
    response = await http.get("/core/trunks", headers=key(load_or_create_seed(store).demo), params={"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


async def test_phone_numbers_filter_by_substring_and_trunk(http: httpx2.AsyncClient, store: SandboxStore) -> None:
    demo = load_or_create_seed(store).demo
    by_digits = await http.get("/core/phone-numbers", headers=key(demo), params={"phone_number": "41555501"})
    assert [row["phone_number"] for row in by_digits.json()] == ["+14155550101", "+14155550102"]
    by_trunk = await http.get("/core/phone-numbers", headers=key(demo), params={"trunk_id": demo.byoc_trunk_id})
    assert {row["trunk_id"] for row in by_trunk.json()} == {demo.byoc_trunk_id}
    assert len(by_trunk.json()) == 3


async def test_trunks_filter_by_name_ignoring_case(http: httpx2.AsyncClient, store: SandboxStore) -> None:
    demo = load_or_create_seed(store).demo
    response = await http.get("/core/trunks", headers=key(demo), params={"name": "pbx (byoc"})
    assert [trunk["id"] for trunk in response.json()] == [demo.byoc_trunk_id]


async def test_lists_filter_by_created_and_updated_windows(http: httpx2.AsyncClient, store: SandboxStore) -> None:
    demo = load_or_create_seed(store).demo
    rows = (await http.get("/core/phone-numbers", headers=key(demo))).json()
    middle = rows[2]["created_at"]
    after = await http.get("/core/phone-numbers", headers=key(demo), params={"created_after": middle})
    before = await http.get("/core/phone-numbers", headers=key(demo), params={"created_before": middle})
    assert [row["phone_number"] for row in after.json()] == [row["phone_number"] for row in rows[3:]]
    assert [row["phone_number"] for row in before.json()] == [row["phone_number"] for row in rows[:2]]
    await http.patch("/core/phone-numbers/%2B12125550132", headers=key(demo), json={"outbound_shareable": True})
    touched = max(row["updated_at"] for row in rows)
    updated = await http.get("/core/phone-numbers", headers=key(demo), params={"updated_after": touched})
    assert [row["phone_number"] for row in updated.json()] == ["+12125550132"]
    stale = await http.get("/core/phone-numbers", headers=key(demo), params={"updated_before": touched})
    assert "+12125550132" not in [row["phone_number"] for row in stale.json()]


async def test_trunks_filter_by_time_window_with_offsets(http: httpx2.AsyncClient, store: SandboxStore) -> None:
    demo = load_or_create_seed(store).demo
    everything = (await http.get("/core/trunks", headers=key(demo))).json()
    later = await http.get("/core/trunks", headers=key(demo), params={"created_after": "2026-11-01T01:00:00+01:00"})
    assert later.json() == everything
    none = await http.get("/core/trunks", headers=key(demo), params={"created_before": "2026-11-01T00:00:00Z"})
    assert none.json() == []
    assert (await http.get("/core/trunks", headers=key(demo), params={"updated_after": "soon"})).status_code == 422


def _all() -> ListFilter:
    return ListFilter(limit=100)
