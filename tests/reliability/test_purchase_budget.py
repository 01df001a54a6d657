"""The purchase budget as a human meets it: the last purchase allowed is previewed and made, the one after is
refused before anyone is asked, and a purchase that may have happened keeps its place in the budget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcp import Client
from mcp.server import MCPServer
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import open_sandbox
from mcp_anyreach.sandbox.faults import Faults
from mcp_anyreach.server import build_server
from mcp_anyreach.settings import Settings
from tests.reliability.live import texts
from tests.server.conftest import ACCEPT, call, connect, era, in_directory, sandbox_api

__all__ = ["era"]
BUDGET = 2


async def _nothing() -> None:
    return None


class Human:
    """Says yes to every purchase, asked or shown with a token, after `before_yes` (what happens meanwhile)."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.before_yes: Callable[[], Awaitable[None]] = _nothing

    async def elicit(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(params.message)
        await self.before_yes()
        return ElicitResult(action="accept", content=ACCEPT)

    async def buy(self, client: Client, number: str) -> CallToolResult:
        result = await call(client, "purchase_phone_number", {"phone_number": number})
        content = result.structured_content or {}
        if result.is_error or content.get("status") != "confirmation_required":
            return result
        self.asked.append(str(content["summary"]))
        await self.before_yes()
        token = content["confirmation_token"]
        return await call(client, "purchase_phone_number", {"phone_number": number, "confirmation_token": token})


def server_on(api: AnyreachClient, max_purchases: int) -> MCPServer:
    return build_server(Settings.model_validate({"sandbox": True, "max_purchases": max_purchases}), api, sandbox=True)


async def offered(client: Client, count: int) -> list[str]:
    """Numbers the server's own search offered (so that a purchase's preview needs no further request)."""
    found = await call(client, "search_available_numbers", {"area_code": "312", "limit": count})
    return [offer["phone_number"] for offer in (found.structured_content or {})["items"]]


async def test_with_a_budget_of_n_the_nth_purchase_is_previewed_and_made_and_the_next_refused_before_asking(
    era: str,
) -> None:
    sandbox = open_sandbox(":memory:")
    human = Human()
    async with sandbox_api(sandbox) as api:
        async with connect(server_on(api, BUDGET), era, elicitation_callback=human.elicit) as client:
            numbers = await offered(client, BUDGET + 1)
            made = [await human.buy(client, number) for number in numbers[:BUDGET]]
            questions_before = len(human.asked)
            over = await human.buy(client, numbers[BUDGET])
        owned = [await in_directory(api, number) for number in numbers]

    assert [(result.structured_content or {}).get("status") for result in made] == ["done"] * BUDGET
    assert "Purchases left after this one: 0" in human.asked[-1], "the last allowed purchase was asked about"
    assert over.is_error
    assert "purchase limit" in texts(over)
    assert len(human.asked) == questions_before, "nobody is asked about a purchase the budget refuses"
    assert owned == [True] * BUDGET + [False]


async def test_a_purchase_failed_with_a_5xx_keeps_its_budget_slot_since_it_may_have_happened(era: str) -> None:
    faults = Faults(error_rate=1.0, max_faults=1, enabled=False)
    sandbox = open_sandbox(":memory:", faults=faults)
    human = Human()

    async def the_service_fails_the_purchase_request() -> None:
        faults.enabled = True

    async with (
        sandbox_api(sandbox) as api,
        connect(server_on(api, 1), era, elicitation_callback=human.elicit) as client,
    ):
        first, second = await offered(client, 2)
        human.before_yes = the_service_fails_the_purchase_request
        failed = await human.buy(client, first)
        human.before_yes = _nothing
        after = await human.buy(client, second)

    assert faults.injected["error"] == 1
    assert failed.is_error
    assert "purchase limit" not in texts(failed)
    assert "safe to retry" not in texts(failed), "a retry after a purchase that may have happened could buy twice"
    assert "unknown whether the change was applied" in texts(failed)
    assert after.is_error
    assert "purchase limit" in texts(after), "a 5xx may hide a purchase made: its slot stays taken"


async def test_a_purchase_the_api_refused_with_a_4xx_frees_its_budget_slot(era: str) -> None:
    sandbox = open_sandbox(":memory:")
    human = Human()
    async with sandbox_api(sandbox) as api:
        account = sandbox.seed.demo.managed_account_id
        async with connect(server_on(api, 1), era, elicitation_callback=human.elicit) as client:
            first, second = await offered(client, 2)

            async def someone_else_buys_it_first() -> None:
                await api.managed_accounts.purchase_number(account, phone_number=first)

            human.before_yes = someone_else_buys_it_first
            refused = await human.buy(client, first)
            human.before_yes = _nothing
            after = await human.buy(client, second)

    assert refused.is_error
    assert "purchase limit" not in texts(refused)
    assert (after.structured_content or {}).get("status") == "done", (
        "a definite refusal bought nothing, so its slot is free again: " + texts(after)
    )
