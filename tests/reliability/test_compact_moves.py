"""Moving many numbers between two trunks reads compactly and still names every number and every agent.

Issue 20, point 1 made every preview list every step, and a 100-number move grew from 4,912 to 25,700
result characters (issue 22's bench). Consecutive moves between the same two trunks now share one entry
naming each number with the agents its steps put back, in the question, the token message and the plan.
"""

from __future__ import annotations

import json

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.sandbox import Sandbox
from tests.reliability.live import data
from tests.reliability.test_previews_show_everything import asked_and_told
from tests.server.conftest import ServerFactory, api, call, connect, era, make_server, sandbox

__all__ = ["api", "era", "make_server", "sandbox"]  # fixtures shared with tests/server

MANY = [f"+1646556{index:04d}" for index in range(60)]
FITS = 4_000  # characters for 60 numbers; listing every step took about 15,000


async def sixty_numbers_with_agents(api: AnyreachClient, sandbox: Sandbox) -> tuple[str, dict[str, str]]:
    """60 numbers on the demo BYOC trunk, some answered or called from by agents, and a new trunk. Answers the
    new trunk's id and what the human must read for each number once the plan below also changes agents."""
    support, after_hours, sales = sandbox.seed.demo.agent_ids[:3]
    for phone in MANY:
        await api.phone_numbers.create(phone_number=phone, trunk_id=sandbox.seed.demo.byoc_trunk_id)
    await api.agents.publish(support, 2, phone_numbers=MANY[:20], direction="inbound")
    await api.agents.publish(sales, 1, phone_numbers=MANY[20:30], direction="both")
    await api.agents.publish(after_hours, 1, phone_numbers=MANY[30:35], direction="outbound")
    expected = {phone: phone for phone in MANY}
    expected |= {phone: f"{phone} ('Support' v2 inbound)" for phone in MANY[:20]}
    expected |= {phone: f"{phone} ('Sales' v1 inbound and outbound)" for phone in MANY[20:30]}
    expected |= {phone: f"{phone} ('After-hours' v1 outbound)" for phone in MANY[30:35]}
    expected |= {phone: f"{phone} ('Sales' v2 inbound)" for phone in MANY[40:45]}  # given by the plan itself
    return (await api.trunks.create(name="Carrier B")).id, expected


async def test_moving_60_numbers_between_two_trunks_fits_the_budget_and_names_every_number_and_agent(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    carrier, expected = await sixty_numbers_with_agents(api, sandbox)
    operations = [
        {"op": "move_numbers", "phone_numbers": MANY, "to_trunk_id": carrier},
        {"op": "assign_agent", "agent": "Sales", "phone_numbers": MANY[40:45], "direction": "inbound"},
    ]
    server = make_server()
    async with connect(server, era) as client:
        result = await call(client, "plan_changes", {"operations": operations})
    plan = data(result)
    shown = await asked_and_told(server, era, "apply_changes", {"plan_id": plan["plan_id"]})

    assert "move 60 numbers" in plan["summary"]
    for text in [*shown, json.dumps(plan)]:
        assert len(text) < FITS, f"{len(text):,} characters to read for one move of 60 numbers"
        assert "from trunk 'Demo Telephony Co PBX (BYOC)' to trunk 'Carrier B'" in text
        assert [phone for phone, line in expected.items() if line not in text] == [], "a number or agent is hidden"
    (entry,) = plan["steps"]
    assert (entry["n"], entry["last"]) == (1, 60 * 2 + 20 + 10 + 5 + 5)
    assert (await api.phone_numbers.get(MANY[0])).trunk_id == sandbox.seed.demo.byoc_trunk_id, "nothing ran yet"


async def test_moves_to_two_trunks_share_an_entry_per_trunk_and_each_names_only_its_own_numbers(
    make_server: ServerFactory, api: AnyreachClient, sandbox: Sandbox, era: str
) -> None:
    for phone in MANY[:4]:
        await api.phone_numbers.create(phone_number=phone, trunk_id=sandbox.seed.demo.byoc_trunk_id)
    carrier_b = (await api.trunks.create(name="Carrier B")).id
    carrier_c = (await api.trunks.create(name="Carrier C")).id
    operations = [
        {"op": "move_numbers", "phone_numbers": MANY[:2], "to_trunk_id": carrier_b},
        {"op": "move_numbers", "phone_numbers": MANY[2:4], "to_trunk_id": carrier_c},
    ]
    server = make_server()
    async with connect(server, era) as client:
        plan = data(await call(client, "plan_changes", {"operations": operations}))
    *_, told = await asked_and_told(server, era, "apply_changes", {"plan_id": plan["plan_id"]})

    to_b, to_c = plan["steps"]
    assert [(entry["action"], entry["n"], entry["last"]) for entry in plan["steps"]] == [
        ("move_numbers", 1, 4),
        ("move_numbers", 5, 8),
    ]
    assert "to trunk 'Carrier B'" in to_b["detail"]
    assert "to trunk 'Carrier C'" in to_c["detail"]
    assert [phone in to_b["detail"] for phone in MANY[:4]] == [True, True, False, False]
    assert [phone in to_c["detail"] for phone in MANY[:4]] == [False, False, True, True]
    assert "1-4. move 2 numbers from trunk 'Demo Telephony Co PBX (BYOC)' to trunk 'Carrier B'" in told
    assert "5-8. move 2 numbers from trunk 'Demo Telephony Co PBX (BYOC)' to trunk 'Carrier C'" in told
