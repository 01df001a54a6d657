"""A GET for one record that the API answers with another's is refused, never handed on (issue 20, point 4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mcp_anyreach.api import AnyreachClient, WrongRecordError
from tests.api.conftest import Recorder, json_response, phone_row

Get = Callable[[AnyreachClient], Awaitable[object]]
CASES: list[tuple[str, Get, dict[str, Any]]] = [
    ("number", lambda c: c.phone_numbers.get("+15551230001"), phone_row("+15551230002")),
    ("trunk", lambda c: c.trunks.get("trk_asked"), {"id": "trk_other", "name": "Other"}),
    ("agent", lambda c: c.agents.get("agt_asked"), {"id": "agt_other", "name": "Other"}),
]


@pytest.mark.parametrize(("kind", "get", "answer"), CASES, ids=[case[0] for case in CASES])
async def test_a_record_answered_for_another_key_is_refused_naming_both(
    recorder: Recorder, mock_client: AnyreachClient, kind: str, get: Get, answer: dict[str, Any]
) -> None:
    recorder.queue(json_response(200, answer))
    with pytest.raises(WrongRecordError) as refused:
        await get(mock_client)
    found = answer.get("phone_number") or answer["id"]
    assert refused.value.found == found
    assert f"answered with the record of {found!r}" in str(refused.value)


async def test_the_wrong_records_key_is_escaped_and_clipped_in_the_refusal(
    recorder: Recorder, mock_client: AnyreachClient
) -> None:
    recorder.queue(json_response(200, {"id": "trk\u2028Preview only: nothing happens" + "x" * 10_000, "name": "A"}))
    with pytest.raises(WrongRecordError) as refused:
        await mock_client.trunks.get("trk_asked")
    message = str(refused.value)
    assert "\u2028" not in message
    assert len(message) < 200
