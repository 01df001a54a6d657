"""Error responses and transport failures become the documented exception classes."""

from __future__ import annotations

import httpx2
import pytest

from mcp_anyreach.api import (
    AnyreachClient as Client,
)
from mcp_anyreach.api import (
    AnyreachError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)

from .conftest import Recorder, json_response


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (501, InternalServerError),
        (418, APIStatusError),
    ],
)
async def test_each_error_status_raises_its_own_class(
    recorder: Recorder, status: int, error_class: type[APIStatusError]
) -> None:
    recorder.queue(json_response(status, {"detail": "nope"}, {"x-request-id": "req-42"}))
    async with recorder.client(max_retries=0) as client:
        with pytest.raises(error_class) as caught:
            await client.phone_numbers.create(phone_number="+15551230001", trunk_id="t")
    assert type(caught.value) is error_class
    assert caught.value.status_code == status
    assert caught.value.detail == "nope"
    assert caught.value.request_id == "req-42"
    assert caught.value.body == {"detail": "nope"}


async def test_an_error_message_names_the_request_status_detail_and_request_id(
    recorder: Recorder, mock_client: Client
) -> None:
    recorder.queue(json_response(404, {"detail": "Trunk t-9 not found"}, {"x-request-id": "req-7"}))
    with pytest.raises(NotFoundError) as caught:
        await mock_client.trunks.get("t-9")
    assert str(caught.value) == "GET /core/trunks/t-9 failed with HTTP 404: Trunk t-9 not found (request id req-7)"


async def test_validation_errors_are_joined_into_a_readable_detail(recorder: Recorder, mock_client: Client) -> None:
    body = {
        "detail": [
            {"type": "missing", "loc": ["body", "trunk_id"], "msg": "Field required"},
            {
                "type": "bool_parsing",
                "loc": ["body", "outbound_shareable"],
                "msg": "Input should be a valid boolean",
            },
        ]
    }
    recorder.queue(json_response(422, body))
    with pytest.raises(UnprocessableEntityError) as caught:
        await mock_client.phone_numbers.create(phone_number="+15551230001", trunk_id="")
    assert caught.value.detail == (
        "body.trunk_id: Field required; body.outbound_shareable: Input should be a valid boolean"
    )
    assert caught.value.request_id is None


async def test_a_non_json_error_body_still_gives_a_detail(recorder: Recorder, mock_client: Client) -> None:
    recorder.queue(httpx2.Response(500, text="upstream exploded"))
    with pytest.raises(InternalServerError) as caught:
        await mock_client.trunks.get("t")
    assert caught.value.detail == "upstream exploded"


async def test_an_empty_error_body_falls_back_to_the_reason_phrase(recorder: Recorder, mock_client: Client) -> None:
    recorder.queue(httpx2.Response(409))
    with pytest.raises(ConflictError) as caught:
        await mock_client.inbound_routing.create()
    assert caught.value.detail == "Conflict"


async def test_a_timeout_raises_api_timeout_error_chained_to_the_httpx2_exception(recorder: Recorder) -> None:
    recorder.queue(httpx2.ReadTimeout("read timed out"))
    async with recorder.client(max_retries=0) as client:
        with pytest.raises(APITimeoutError) as caught:
            await client.trunks.get("t")
    assert isinstance(caught.value, APIConnectionError)
    assert isinstance(caught.value.__cause__, httpx2.ReadTimeout)
    assert "GET /core/trunks/t timed out" in str(caught.value)


async def test_a_dropped_connection_raises_api_connection_error(recorder: Recorder) -> None:
    recorder.queue(httpx2.RemoteProtocolError("peer closed connection"))
    async with recorder.client(max_retries=0) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.phone_numbers.list()
    assert not isinstance(caught.value, APITimeoutError)
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)


async def test_a_success_body_of_the_wrong_shape_raises_anyreach_error(recorder: Recorder, mock_client: Client) -> None:
    recorder.queue(json_response(200, {"phone_number": "+15551230001"}))
    with pytest.raises(AnyreachError, match="does not match PhoneNumber"):
        await mock_client.phone_numbers.get("+15551230001")


async def test_a_success_body_that_is_not_json_raises_anyreach_error(recorder: Recorder, mock_client: Client) -> None:
    recorder.queue(httpx2.Response(200, text="<html>"))
    with pytest.raises(AnyreachError, match="not JSON"):
        await mock_client.trunks.get("t")


def test_the_error_classes_form_the_documented_tree() -> None:
    for status_class in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        UnprocessableEntityError,
        RateLimitError,
        InternalServerError,
    ):
        assert issubclass(status_class, APIStatusError)
    assert issubclass(APIStatusError, AnyreachError)
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, AnyreachError)
