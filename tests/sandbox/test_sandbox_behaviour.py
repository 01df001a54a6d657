"""The sandbox answers each undocumented point the way it is told to, so clients can be tested against every way."""

from __future__ import annotations

import subprocess
import sys

import anyio
import httpx2
import pytest

from mcp_anyreach.sandbox import Behaviour, Sandbox, open_sandbox

from .sandbox_helpers import key

PURCHASE = "/core/managed-accounts/{account}/purchase-number"


def test_a_behaviour_spec_names_every_choice_and_refuses_what_it_does_not_know() -> None:
    behaviour = Behaviour.parse("pagination=link, put=replace,purchase_body=empty,max_limit=50")

    assert behaviour == Behaviour(pagination="link", put="replace", purchase_body="empty", max_limit=50)
    assert Behaviour.parse(str(behaviour)) == behaviour
    assert Behaviour.parse("") == Behaviour()
    with pytest.raises(ValueError, match="pagination, put, purchase_body, max_limit"):
        Behaviour.parse("paging=link")
    with pytest.raises(ValueError, match="pagination"):
        Behaviour.parse("pagination=carrier-pigeon")
    with pytest.raises(ValueError, match="max_limit"):
        Behaviour.parse("max_limit=0")


async def answers(sandbox: Sandbox, method: str, path: str, **kwargs: object) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=sandbox.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        return await http.request(method, path, headers=key(sandbox.seed.demo), **kwargs)  # type: ignore[arg-type]


async def test_a_replacing_put_erases_what_a_partial_body_leaves_out_and_refuses_a_config_without_password() -> None:
    sandbox = open_sandbox(behaviour="put=replace")
    trunk_path = f"/core/trunks/{sandbox.seed.demo.byoc_trunk_id}"
    outbound = {"address": "pbx.example.com", "auth_username": "u"}

    no_password = await answers(sandbox, "PUT", trunk_path, json={"name": "X", "outbound_config": outbound})
    no_name = await answers(sandbox, "PUT", trunk_path, json={"inbound_config": None})
    renamed = await answers(sandbox, "PUT", trunk_path, json={"name": "Renamed only"})

    assert no_password.status_code == 422
    assert "give the password again" in no_password.text
    assert no_name.status_code == 422
    assert renamed.status_code == 200
    assert (renamed.json()["inbound_config"], renamed.json()["outbound_config"]) == (None, None)


@pytest.mark.parametrize(
    ("pagination", "where"),
    [("link", "link"), ("next_cursor", "next_cursor"), ("cursor", "cursor"), ("next", "next"), ("none", None)],
)
async def test_the_next_cursor_travels_where_the_pagination_behaviour_says(pagination: str, where: str | None) -> None:
    sandbox = open_sandbox(behaviour=f"pagination={pagination}")

    first = await answers(sandbox, "GET", "/core/phone-numbers", params={"limit": 2})
    last = await answers(sandbox, "GET", "/core/phone-numbers", params={"limit": 50})

    assert "x-next-cursor" not in first.headers
    body = first.json()
    if where == "link":
        assert first.headers["link"].startswith("<http://sandbox/core/phone-numbers?limit=2&cursor=")
        assert first.headers["link"].endswith('>; rel="next"')
        assert "link" not in last.headers
    elif where is not None:
        assert len(body["data"]) == 2
        assert body[where]
        assert last.json()[where] is None
        if where == "next":
            assert body["next"].startswith("http://sandbox/core/phone-numbers?limit=2&cursor=")
    else:
        assert (len(body), "link" in first.headers) == (2, False)


async def test_a_limit_above_the_maximum_is_refused_with_a_422_naming_the_maximum() -> None:
    sandbox = open_sandbox(behaviour="max_limit=50")
    search = f"/core/managed-accounts/{sandbox.seed.demo.managed_account_id}/search-numbers"

    refused = await answers(sandbox, "GET", "/core/trunks", params={"limit": 100})
    accepted = await answers(sandbox, "GET", "/core/trunks", params={"limit": 50})
    refused_search = await answers(sandbox, "GET", search, params={"limit": 51})

    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert (error["loc"], error["ctx"]) == (["query", "limit"], {"le": 50})
    assert accepted.status_code == 200
    assert refused_search.status_code == 422


@pytest.mark.parametrize(
    ("purchase_body", "status", "body"), [("empty", 201, b""), ("status", 202, b'{"status":"accepted"}')]
)
async def test_a_purchase_can_answer_without_the_number_row(purchase_body: str, status: int, body: bytes) -> None:
    sandbox = open_sandbox(behaviour=f"purchase_body={purchase_body}")
    demo = sandbox.seed.demo
    [offer] = (
        await answers(sandbox, "GET", f"/core/managed-accounts/{demo.managed_account_id}/search-numbers?limit=1")
    ).json()

    bought = await answers(
        sandbox, "POST", PURCHASE.format(account=demo.managed_account_id), json={"phone_number": offer["phone_number"]}
    )

    assert bought.status_code == status
    assert bought.content == body
    assert (await answers(sandbox, "GET", f"/core/phone-numbers/{offer['phone_number']}")).status_code == 200


async def test_the_sandbox_command_refuses_a_wrong_behaviour_and_its_help_shows_the_defaults() -> None:
    command = [sys.executable, "-m", "mcp_anyreach", "sandbox"]
    with anyio.fail_after(60):
        wrong = await anyio.run_process([*command, "--behaviour", "put=sideways"], check=False)
        shown = await anyio.run_process([*command, "--help"], stdin=subprocess.DEVNULL, check=False)

    assert wrong.returncode == 1
    assert b"put" in wrong.stderr
    help_text = shown.stdout.decode()
    assert "8787" in help_text
    assert "127.0.0.1" in help_text
    assert "--behaviour" in help_text
    assert "pagination=link" in help_text
