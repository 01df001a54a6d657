"""An audit a reviewer can follow: each write's lines name the organization, the caller and how it was approved."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.test_token_binding_over_http import call as http_call
from tests.reliability.test_token_binding_over_http import http_servers
from tests.server.conftest import ACCEPT, ServerFactory, answering, call, connect, questions, sandbox_api

SHOWN = re.compile(r"\(preview ([\w-]{8})\)$")  # base64url: letters, digits, - and _


def entries(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def writes(log: Path) -> list[dict[str, Any]]:
    """The lines of the writes themselves (attempted, done, failed), not of their gates."""
    return [e for e in entries(log) if e["outcome"].split(":")[0] in ("attempted", "done", "failed")]


async def test_a_human_yes_is_logged_with_the_fingerprint_the_question_showed_and_the_organization(
    make_server: ServerFactory, sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    log = tmp_path / "audit.jsonl"
    demo = sandbox.seed.demo
    async with sandbox_api(sandbox, sandbox.seed.user.pat, demo.org_id) as member:
        asked = answering("accept", ACCEPT)
        async with connect(make_server(audit_log=log, client=member), era, elicitation_callback=asked) as client:
            done = await call(client, "delete_phone_number", {"phone_number": "+12125550132"})

    assert not done.is_error
    [question] = questions(asked)
    shown = SHOWN.search(question)
    assert shown is not None, question
    attempted, finished = writes(log)
    assert (attempted["outcome"], finished["outcome"]) == ("attempted", "done")
    for line in (attempted, finished):
        assert line["organization"] == demo.org_id
        assert line["caller"] == "stdio"
        assert line["approval"] == "elicitation"
        assert line["preview"].startswith(shown.group(1)), "the line names the preview the human was shown"
        assert "plan_id" not in line


async def test_a_token_is_logged_by_the_preview_it_came_from_never_by_itself(
    make_server: ServerFactory, sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    log = tmp_path / "audit.jsonl"
    other = sandbox.seed.other
    member = sandbox_api(sandbox, sandbox.seed.user.pat, other.org_id)
    async with member, connect(make_server(audit_log=log, client=member), era) as client:
        arguments = {"phone_number": "+12065550122"}
        offered: dict[str, Any] = (await call(client, "delete_phone_number", arguments)).structured_content or {}
        token = offered["confirmation_token"]
        done = await call(client, "delete_phone_number", {**arguments, "confirmation_token": token})

    assert not done.is_error
    required, attempted, finished = entries(log)
    assert required["outcome"] == "confirmation_required"
    assert "approval" not in required, "offering a token approves nothing"
    assert [line["approval"] for line in (attempted, finished)] == ["token", "token"]
    assert required["preview"] == attempted["preview"] == finished["preview"]
    assert {line["organization"] for line in (required, attempted, finished)} == {other.org_id}
    assert token not in log.read_text()


async def test_no_confirm_and_an_ungated_tool_say_so_and_show_no_preview(
    make_server: ServerFactory, tmp_path: Path, era: str
) -> None:
    unattended, ungated = tmp_path / "no-confirm.jsonl", tmp_path / "ungated.jsonl"
    async with connect(make_server(audit_log=unattended, no_confirm=True), era) as client:
        assert not (await call(client, "delete_phone_number", {"phone_number": "+12125550132"})).is_error
    async with connect(make_server(audit_log=ungated), era) as client:
        shared = {"phone_number": "+12125550131", "outbound_shareable": True}
        assert not (await call(client, "update_phone_number", shared)).is_error

    assert [(e["approval"], "preview" in e) for e in writes(unattended)] == [("no_confirm", False)] * 2
    assert [(e["approval"], "preview" in e, e["confirmation"]) for e in writes(ungated)] == [
        ("ungated", False, None)
    ] * 2


async def test_each_step_of_a_change_set_carries_its_plan_id_and_the_plans_approval(
    make_server: ServerFactory, tmp_path: Path, era: str
) -> None:
    log = tmp_path / "audit.jsonl"
    async with connect(make_server(audit_log=log), era) as client:
        planned = await call(client, "plan_changes", {"operations": [{"op": "delete_numbers", "unused": True}]})
        plan: dict[str, Any] = planned.structured_content or {}
        token = plan["confirmation_token"]
        done = await call(client, "apply_changes", {"plan_id": plan["plan_id"], "confirmation_token": token})

    assert not done.is_error
    offered, *ran = entries(log)
    steps = [line for line in ran if line["tool"] == "delete_phone_number"]
    assert len(steps) == 4, "two steps, each attempted and done"
    assert {line["plan_id"] for line in [offered, *ran]} == {plan["plan_id"]}
    assert {(line["approval"], line["preview"]) for line in ran} == {("token", offered["preview"])}
    assert all(line["confirmation"] is None for line in steps), "the gate's channel is the plan's, as before"


async def test_without_an_organization_id_the_line_names_the_api_host_and_the_keys_organization(
    make_server: ServerFactory, api: AnyreachClient, tmp_path: Path, era: str
) -> None:
    log = tmp_path / "audit.jsonl"
    async with connect(make_server(audit_log=log, no_confirm=True), era) as client:
        assert not (await call(client, "delete_phone_number", {"phone_number": "+12125550132"})).is_error

    assert {line["organization"] for line in entries(log)} == {f"sandbox.test {api.organization}"}


@pytest.mark.parametrize(("era", "caller"), [("legacy", "session "), ("auto", "http")])
async def test_over_http_without_sign_in_the_caller_is_the_session_or_else_http(
    api: AnyreachClient, tmp_path: Path, era: str, caller: str
) -> None:
    """A legacy-era session names the connection its lines came from; the 2026-07-28 protocol has no session."""
    log = tmp_path / "audit.jsonl"
    async with http_servers(api, tmp_path, 1, audit_log=log) as [url]:
        asked = answering("accept", ACCEPT)
        done = await http_call(
            url, era, "delete_phone_number", {"phone_number": "+12125550132"}, elicitation_callback=asked
        )

    assert not done.is_error
    assert [line["outcome"] for line in writes(log)] == ["attempted", "done"]
    assert {line["caller"].startswith(caller) for line in writes(log)} == {True}
    assert len({line["caller"] for line in writes(log)}) == 1
