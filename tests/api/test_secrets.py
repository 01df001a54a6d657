"""The token and SIP passwords never appear in anything the client raises, logs or shows."""

from __future__ import annotations

import logging

import httpx2
import pytest
from pydantic import SecretStr

from mcp_anyreach.api import (
    APIConnectionError,
    BadRequestError,
    InboundConfig,
    OutboundConfig,
    Trunk,
    UnprocessableEntityError,
)

from .conftest import PASSWORD, TOKEN, Recorder, json_response


def outbound() -> OutboundConfig:
    return OutboundConfig(address="sip.example.com", auth_username="u", auth_password=SecretStr(PASSWORD))


def assert_clean(text: str) -> None:
    assert TOKEN not in text
    assert PASSWORD not in text


def test_models_hide_passwords_in_repr_str_and_ordinary_dumps() -> None:
    trunk = Trunk(
        id="t",
        name="office",
        outbound_config=outbound(),
        inbound_config=InboundConfig(auth_username="u", auth_password=SecretStr(PASSWORD)),
    )
    for shown in (
        repr(trunk),
        str(trunk),
        trunk.model_dump_json(),
        str(trunk.model_dump()),
        str(trunk.model_dump(mode="json")),
    ):
        assert_clean(shown)
    assert trunk.outbound_config is not None
    assert trunk.outbound_config.auth_password is not None
    assert trunk.outbound_config.auth_password.get_secret_value() == PASSWORD


async def test_the_client_repr_hides_the_token(recorder: Recorder) -> None:
    async with recorder.client() as client:
        assert_clean(repr(client))
        assert "redacted" in repr(client)


async def test_a_validation_error_echoing_the_password_is_scrubbed(recorder: Recorder) -> None:
    echo = {
        "detail": [
            {
                "type": "value_error",
                "loc": ["body", "outbound_config", "auth_password"],
                "msg": f"Value error, {PASSWORD} is too weak",
                "input": PASSWORD,
            }
        ]
    }
    recorder.queue(json_response(422, echo))
    async with recorder.client() as client:
        with pytest.raises(UnprocessableEntityError) as caught:
            await client.trunks.create(name="office", outbound_config=outbound())
    error = caught.value
    for shown in (str(error), repr(error), error.detail, str(error.body), str(error.args)):
        assert_clean(shown)
    assert "body.outbound_config.auth_password" in error.detail


async def test_an_error_body_echoing_the_token_or_a_password_field_is_scrubbed(recorder: Recorder) -> None:
    echo = {
        "detail": f"token {TOKEN} may not do that",
        "auth_password": "other-secret",
        "auth_password_set": True,
    }
    recorder.queue(json_response(200, {"id": "t", "name": "office"}), json_response(400, echo))
    async with recorder.client() as client:
        with pytest.raises(BadRequestError) as caught:
            await client.trunks.update("t", outbound_config=outbound())
    assert recorder.requests[-1].method == "PUT"
    assert_clean(str(caught.value))
    assert_clean(str(caught.value.body))
    assert "other-secret" not in str(caught.value.body)
    assert caught.value.body == {
        "detail": "token [redacted] may not do that",
        "auth_password": "[redacted]",
        "auth_password_set": True,
    }


async def test_a_transport_failure_mentioning_the_token_is_scrubbed(recorder: Recorder) -> None:
    recorder.queue(httpx2.ConnectError(f"proxy refused Bearer {TOKEN}"))
    async with recorder.client(max_retries=0) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.trunks.list()
    assert_clean(str(caught.value))


async def test_debug_logs_never_contain_the_token_or_a_password(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    trunk = json_response(200, {"id": "t", "name": "office"})
    recorder.queue(trunk, json_response(503, {"detail": "down"}), trunk, trunk, httpx2.ReadTimeout("slow"), trunk)
    async with recorder.client() as client:
        await client.trunks.update("t", outbound_config=outbound())
        await client.trunks.update("t", outbound_config=outbound())
    api_records = [r for r in caplog.records if r.name == "mcp_anyreach.api"]
    assert api_records
    for record in caplog.records:
        assert_clean(record.getMessage())
