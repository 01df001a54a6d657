"""Retries: idempotent requests are repeated with backoff; writes that may have landed are not."""

from __future__ import annotations

import httpx2
import pytest

from mcp_anyreach.api import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)

from .conftest import Recorder, json_response, phone_row

TRUNK = {"id": "t-1", "name": "office"}


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_a_get_is_retried_after_a_gateway_failure(recorder: Recorder, status: int) -> None:
    recorder.queue(json_response(status, {"detail": "busy"}), json_response(200, TRUNK))
    async with recorder.client() as client:
        trunk = await client.trunks.get("t-1")
    assert trunk.name == "office"
    assert len(recorder.requests) == 2
    assert len(recorder.sleeps) == 1


@pytest.mark.parametrize(
    "failure", [httpx2.ConnectError("refused"), httpx2.ReadTimeout("slow"), httpx2.ReadError("reset")]
)
async def test_put_and_delete_are_retried_after_a_connection_failure(recorder: Recorder, failure: Exception) -> None:
    recorder.queue(json_response(200, TRUNK), failure, json_response(200, TRUNK), failure, httpx2.Response(204))
    async with recorder.client() as client:
        await client.trunks.update("t-1", name="office")
        await client.trunks.delete("t-1")
    assert [r.method for r in recorder.requests] == ["GET", "PUT", "PUT", "DELETE", "DELETE"]


async def test_retries_stop_after_max_retries_and_raise_the_last_failure(recorder: Recorder) -> None:
    recorder.queue(*(json_response(503, {"detail": "down"}) for _ in range(4)))
    async with recorder.client(max_retries=3) as client:
        with pytest.raises(InternalServerError) as caught:
            await client.phone_numbers.list()
    assert caught.value.status_code == 503
    assert len(recorder.requests) == 4
    assert len(recorder.sleeps) == 3


async def test_backoff_grows_exponentially_with_jitter_and_is_capped(recorder: Recorder) -> None:
    recorder.queue(*(httpx2.ConnectError("refused") for _ in range(6)))
    async with recorder.client(max_retries=5, retry_base_delay=1.0, retry_max_delay=4.0) as client:
        with pytest.raises(APIConnectionError):
            await client.trunks.list()
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(recorder.sleeps) == len(ceilings)
    for slept, ceiling in zip(recorder.sleeps, ceilings, strict=True):
        assert ceiling / 2 <= slept <= ceiling


async def test_max_retries_zero_sends_once(recorder: Recorder) -> None:
    recorder.queue(json_response(502, {"detail": "bad gateway"}))
    async with recorder.client(max_retries=0) as client:
        with pytest.raises(InternalServerError):
            await client.trunks.get("t-1")
    assert len(recorder.requests) == 1
    assert recorder.sleeps == []


async def test_a_429_waits_the_retry_after_seconds(recorder: Recorder) -> None:
    recorder.queue(json_response(429, {"detail": "slow down"}, {"retry-after": "3"}), json_response(200, []))
    async with recorder.client() as client:
        await client.trunks.list()
    assert recorder.sleeps == [3.0]


async def test_a_long_retry_after_is_capped(recorder: Recorder) -> None:
    recorder.queue(json_response(429, {"detail": "later"}, {"retry-after": "3600"}), json_response(200, []))
    async with recorder.client() as client:
        await client.trunks.list()
    assert recorder.sleeps == [30.0]


async def test_a_retry_after_http_date_in_the_past_retries_at_once(recorder: Recorder) -> None:
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    recorder.queue(json_response(429, {"detail": "later"}, {"retry-after": past}), json_response(200, []))
    async with recorder.client() as client:
        await client.trunks.list()
    assert recorder.sleeps == [0.0]


async def test_a_429_on_a_post_is_retried_because_the_service_refused_it(recorder: Recorder) -> None:
    recorder.queue(json_response(429, {"detail": "later"}, {"retry-after": "1"}), json_response(201, TRUNK))
    async with recorder.client() as client:
        trunk = await client.trunks.create(name="office")
    assert trunk.id == "t-1"
    assert [r.method for r in recorder.requests] == ["POST", "POST"]


async def test_persistent_429_raises_rate_limit_error(recorder: Recorder) -> None:
    recorder.queue(*(json_response(429, {"detail": "later"}) for _ in range(3)))
    async with recorder.client() as client:
        with pytest.raises(RateLimitError):
            await client.trunks.get("t-1")
    assert len(recorder.requests) == 3


@pytest.mark.parametrize(
    "failure",
    [
        json_response(503, {"detail": "down"}),
        httpx2.ReadTimeout("slow"),
        httpx2.RemoteProtocolError("dropped"),
    ],
)
async def test_post_and_patch_are_not_retried_after_an_ambiguous_failure(
    recorder: Recorder, failure: httpx2.Response | Exception
) -> None:
    recorder.queue(failure, failure)
    async with recorder.client() as client:
        with pytest.raises((InternalServerError, APIConnectionError)):
            await client.trunks.create(name="office")
        with pytest.raises((InternalServerError, APIConnectionError)):
            await client.phone_numbers.update("+15551230001", outbound_shareable=True)
    assert [r.method for r in recorder.requests] == ["POST", "PATCH"]
    assert recorder.sleeps == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500])
async def test_definite_errors_are_not_retried(recorder: Recorder, status: int) -> None:
    recorder.queue(json_response(status, {"detail": "no"}))
    async with recorder.client() as client:
        with pytest.raises(Exception, match="HTTP"):
            await client.trunks.get("t-1")
    assert len(recorder.requests) == 1


async def test_a_purchase_with_an_unclear_outcome_is_confirmed_from_the_directory(recorder: Recorder) -> None:
    number = "+15559870001"
    recorder.queue(
        httpx2.ReadTimeout("slow"),
        json_response(200, phone_row(number, "managed-trunk")),
        json_response(200, {"id": "managed-trunk", "name": number, "managed_account_id": "ma-1"}),
    )
    async with recorder.client() as client:
        bought = await client.managed_accounts.purchase_number("ma-1", phone_number=number)
    assert bought.phone_number == number
    assert [(r.method, r.url.raw_path) for r in recorder.requests] == [
        ("POST", b"/core/managed-accounts/ma-1/purchase-number"),
        ("GET", b"/core/phone-numbers/%2B15559870001"),
        ("GET", b"/core/trunks/managed-trunk"),
    ]


@pytest.mark.parametrize("failure", [json_response(502, {"detail": "bad gateway"}), httpx2.ReadError("reset")])
async def test_a_purchase_that_did_not_land_raises_the_original_error_without_resending(
    recorder: Recorder, failure: httpx2.Response | Exception
) -> None:
    recorder.queue(failure, json_response(404, {"detail": "Phone number not found"}))
    async with recorder.client() as client:
        with pytest.raises((InternalServerError, APIConnectionError)) as caught:
            await client.managed_accounts.purchase_number("ma-1", phone_number="+15559870001")
    assert not isinstance(caught.value, NotFoundError)
    assert [r.method for r in recorder.requests] == ["POST", "GET"]


async def test_a_purchase_is_not_confirmed_by_a_number_on_a_customer_owned_trunk(recorder: Recorder) -> None:
    recorder.queue(
        httpx2.ReadTimeout("slow"),
        json_response(200, phone_row("+15559870001", "byoc")),
        json_response(200, {"id": "byoc", "name": "office", "managed_account_id": None}),
    )
    async with recorder.client() as client:
        with pytest.raises(APITimeoutError):
            await client.managed_accounts.purchase_number("ma-1", phone_number="+15559870001")


async def test_a_purchase_whose_confirmation_fails_raises_the_original_error(recorder: Recorder) -> None:
    recorder.queue(httpx2.ReadTimeout("slow"), *(httpx2.ConnectError("down") for _ in range(3)))
    async with recorder.client() as client:
        with pytest.raises(APITimeoutError):
            await client.managed_accounts.purchase_number("ma-1", phone_number="+15559870001")
    assert [r.method for r in recorder.requests] == ["POST", "GET", "GET", "GET"]


async def test_a_definite_purchase_refusal_is_raised_without_a_directory_lookup(recorder: Recorder) -> None:
    recorder.queue(json_response(409, {"detail": "already owned"}))
    async with recorder.client() as client:
        with pytest.raises(Exception, match="409"):
            await client.managed_accounts.purchase_number("ma-1", phone_number="+15559870001")
    assert len(recorder.requests) == 1
