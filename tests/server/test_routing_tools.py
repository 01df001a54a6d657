"""The routing toolset through the real server and the real sandbox, in both protocol eras."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from mcp_types import CallToolResult

from mcp_anyreach.api import AnyreachClient, InboundRoutingConfig
from tests.server.conftest import ACCEPT, ServerFactory, answering, call, connect, questions

INLINE = {"steps": [{"route_to": "agt_front_desk"}]}
Check = Callable[[], Awaitable[None]]


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def confirmed(
    make_server: ServerFactory, era: str, path: str, tool: str, arguments: dict[str, Any], *, meanwhile: Check
) -> CallToolResult:
    """Call a gated tool and confirm it: the user accepts when asked, or the preview's token comes back.

    `meanwhile` runs before the confirmation takes effect (inside the question, or between the two calls).
    """
    if path == "elicitation":
        asked: list[str] = []

        async def accept_after_check(context: Any, params: Any) -> Any:
            await meanwhile()
            asked.append(params.message)
            return await answering("accept", ACCEPT)(context, params)

        async with connect(make_server(), era, elicitation_callback=accept_after_check) as client:
            result = await call(client, tool, arguments)
        assert len(asked) == 1
        return result
    async with connect(make_server(), era) as client:
        preview = await call(client, tool, arguments)
        assert not preview.is_error, preview.content
        assert preview.structured_content is not None
        assert preview.structured_content["status"] == "confirmation_required"
        await meanwhile()
        token = preview.structured_content["confirmation_token"]
        return await call(client, tool, {**arguments, "confirmation_token": token})


def done(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["status"] == "done"
    return result.structured_content


PATHS = pytest.mark.parametrize("path", ["elicitation", "token"])


async def test_get_routing_when_none_exists_says_it_is_not_configured_and_what_happens_instead(
    make_server: ServerFactory, era: str
) -> None:
    async with connect(make_server(), era) as client:
        result = await call(client, "get_inbound_routing_config", {})

    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["configured"] is False
    assert result.structured_content["config"] is None
    assert "agent" in result.structured_content["behaviour"]


async def test_get_routing_shows_the_configured_workflow(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    await api.inbound_routing.create(workflow_id="wf_hours", workflow_version=3, fallback_agent_id="agt_desk")
    async with connect(make_server(), era) as client:
        result = await call(client, "get_inbound_routing_config", {})

    assert result.structured_content is not None
    assert result.structured_content["configured"] is True
    config = result.structured_content["config"]
    assert (config["workflow_id"], config["workflow_version"], config["fallback_agent_id"]) == (
        "wf_hours",
        3,
        "agt_desk",
    )
    assert "wf_hours" in result.structured_content["behaviour"]


@PATHS
async def test_creating_routing_is_confirmed_first_and_then_routes_through_the_workflow(
    make_server: ServerFactory, api: AnyreachClient, era: str, path: str
) -> None:
    async def nothing_yet() -> None:
        assert await api.inbound_routing.get() is None

    arguments = {"workflow_id": "wf_hours", "workflow_version": 2, "fallback_agent_id": "agt_desk"}
    result = await confirmed(make_server, era, path, "create_inbound_routing_config", arguments, meanwhile=nothing_yet)

    assert done(result)["result"]["workflow_id"] == "wf_hours"
    config = await api.inbound_routing.get()
    assert config is not None
    assert (config.enabled, config.workflow_id, config.workflow_version, config.fallback_agent_id) == (
        True,
        "wf_hours",
        2,
        "agt_desk",
    )


async def test_creating_routing_with_an_inline_workflow_stores_that_definition(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    async with connect(make_server(), era, elicitation_callback=answering("accept", ACCEPT)) as client:
        result = await call(client, "create_inbound_routing_config", {"workflow_definition": INLINE})

    done(result)
    config = await api.inbound_routing.get()
    assert config is not None
    assert (config.workflow_id, config.workflow_definition) == (None, INLINE)


async def test_creating_routing_declined_by_the_user_creates_nothing(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    async with connect(make_server(), era, elicitation_callback=answering("decline")) as client:
        result = await call(client, "create_inbound_routing_config", {"workflow_id": "wf_hours"})

    assert result.structured_content is not None
    assert result.structured_content["status"] == "declined"
    assert await api.inbound_routing.get() is None


@pytest.mark.parametrize("can_elicit", [True, False], ids=["eliciting", "not-eliciting"])
async def test_creating_routing_when_one_exists_is_refused_and_leaves_the_existing_one(
    make_server: ServerFactory, api: AnyreachClient, era: str, can_elicit: bool
) -> None:
    existing = await api.inbound_routing.create(workflow_id="wf_hours")
    callback = answering("accept", ACCEPT)
    options = {"elicitation_callback": callback} if can_elicit else {}
    async with connect(make_server(), era, **options) as client:
        result = await call(client, "create_inbound_routing_config", {"workflow_id": "wf_other"})

    assert result.is_error
    assert "update_inbound_routing_config" in text_of(result)
    assert questions(callback) == []
    assert await api.inbound_routing.get() == existing


WORKFLOW_CHOICES = {
    "both": {"workflow_id": "wf_hours", "workflow_definition": INLINE},
    "neither": {"fallback_agent_id": "agt_desk"},
}


@pytest.mark.parametrize("arguments", WORKFLOW_CHOICES.values(), ids=WORKFLOW_CHOICES.keys())
async def test_creating_routing_needs_exactly_one_of_workflow_id_or_workflow_definition(
    make_server: ServerFactory, api: AnyreachClient, era: str, arguments: dict[str, Any]
) -> None:
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(client, "create_inbound_routing_config", arguments)

    assert result.is_error
    assert "workflow" in text_of(result)
    assert questions(callback) == []
    assert await api.inbound_routing.get() is None


@PATHS
async def test_updating_routing_changes_only_the_fields_given(
    make_server: ServerFactory, api: AnyreachClient, era: str, path: str
) -> None:
    before = await api.inbound_routing.create(workflow_id="wf_hours", workflow_version=2, fallback_agent_id="agt_desk")

    async def unchanged_yet() -> None:
        assert await api.inbound_routing.get() == before

    result = await confirmed(
        make_server, era, path, "update_inbound_routing_config", {"enabled": False}, meanwhile=unchanged_yet
    )

    done(result)
    after = await api.inbound_routing.get()
    assert after is not None
    assert after.enabled is False
    assert (after.workflow_id, after.workflow_version, after.fallback_agent_id) == ("wf_hours", 2, "agt_desk")


async def test_the_update_question_tells_the_user_what_routing_becomes(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    await api.inbound_routing.create(workflow_id="wf_hours", fallback_agent_id="agt_desk")
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(client, "update_inbound_routing_config", {"fallback_agent_id": "agt_night"})

    done(result)
    (question,) = questions(callback)
    assert "agt_desk" in question
    assert "agt_night" in question
    config = await api.inbound_routing.get()
    assert config is not None
    assert (config.workflow_id, config.fallback_agent_id) == ("wf_hours", "agt_night")


async def test_switching_routing_to_an_inline_workflow_asks_about_the_inline_workflow_not_the_old_one(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    await api.inbound_routing.create(workflow_id="wf_hours")
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(client, "update_inbound_routing_config", {"workflow_definition": INLINE})

    done(result)
    config = await api.inbound_routing.get()
    assert config is not None
    assert (config.workflow_id, config.workflow_definition) == (None, INLINE)
    (question,) = questions(callback)
    after = question.split("After:", 1)[1]
    assert "inline" in after
    assert "wf_hours" not in after


async def test_updating_routing_with_both_workflow_kinds_is_refused_before_the_user_is_asked(
    make_server: ServerFactory, api: AnyreachClient, era: str
) -> None:
    before = await api.inbound_routing.create(workflow_id="wf_hours")
    callback = answering("accept", ACCEPT)
    async with connect(make_server(), era, elicitation_callback=callback) as client:
        result = await call(
            client, "update_inbound_routing_config", {"workflow_id": "wf_other", "workflow_definition": INLINE}
        )

    assert result.is_error
    assert questions(callback) == []
    assert await api.inbound_routing.get() == before


@pytest.mark.parametrize("tool", ["update_inbound_routing_config", "delete_inbound_routing_config"])
async def test_changing_routing_that_does_not_exist_is_a_tool_error_pointing_at_create(
    make_server: ServerFactory, api: AnyreachClient, era: str, tool: str
) -> None:
    arguments = {"enabled": False} if tool.startswith("update") else {}
    async with connect(make_server(), era, elicitation_callback=answering("accept", ACCEPT)) as client:
        result = await call(client, tool, arguments)

    assert result.is_error
    assert "no routing config" in text_of(result).lower()
    assert await api.inbound_routing.get() is None


@PATHS
async def test_deleting_routing_is_confirmed_first_and_then_removes_it(
    make_server: ServerFactory, api: AnyreachClient, era: str, path: str
) -> None:
    existing = await api.inbound_routing.create(workflow_id="wf_hours")

    async def still_there() -> None:
        assert await api.inbound_routing.get() == existing

    result = await confirmed(make_server, era, path, "delete_inbound_routing_config", {}, meanwhile=still_there)

    done(result)
    assert await api.inbound_routing.get() is None
    async with connect(make_server(), era) as client:
        state = await call(client, "get_inbound_routing_config", {})
    assert state.structured_content is not None
    assert state.structured_content["configured"] is False


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_deleting_routing_declined_or_dismissed_keeps_it(
    make_server: ServerFactory, api: AnyreachClient, era: str, action: str
) -> None:
    existing: InboundRoutingConfig = await api.inbound_routing.create(workflow_id="wf_hours")
    async with connect(make_server(), era, elicitation_callback=answering(action)) as client:
        result = await call(client, "delete_inbound_routing_config", {})

    assert result.structured_content is not None
    assert result.structured_content["status"] == {"decline": "declined", "cancel": "cancelled"}[action]
    assert await api.inbound_routing.get() == existing
