"""`mcp-anyreach demo`: the real server in a subprocess, a real MCP client, the whole mission step by step.

The demo is a client, not a server, so it prints to stdout. The server's own log goes to a file and is
shown only when something fails.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp.client.session import ElicitationFnT
from mcp.client.stdio import stdio_client
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult, TextResourceContents

from mcp_anyreach.cli.exit_codes import ExitCode

AREA_CODE = "415"
TRUNK_NAME = "Demo carrier (BYOC)"
BYOC_NUMBER = "+12125550199"
CARRIER_ADDRESS = "198.51.100.7/32"
WORKFLOW_ID = "wf_demo_router"
STEP_TIMEOUT = 60.0


class DemoError(Exception):
    """A step did not do what the demo expected; the message says which and why."""


@dataclass
class Demo:
    """Numbered steps, printed as they happen, and what changed for the summary."""

    out: TextIO
    step: int = 0
    changes: list[str] = field(default_factory=list[str])

    def say(self, text: str) -> None:
        # The demo is a terminal program, not a stdio server: its own output belongs on `out`.
        self.out.write(text + "\n")
        self.out.flush()

    def title(self, text: str) -> None:
        self.say(f"\n== {text} ==")

    def begin(self, what: str, call: str) -> None:
        self.step += 1
        self.say(f"\n[{self.step}] {what}\n    -> {call}")

    def show(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.say(f"       {line}".rstrip())


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool and return its structured result; a tool error ends the demo with the server's words."""
    result: CallToolResult = await client.call_tool(tool, arguments)
    if result.is_error:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise DemoError(f"{tool} failed: {text}")
    return result.structured_content or {}


async def read_json(client: Client, uri: str) -> Any:
    contents = (await client.read_resource(uri)).contents
    first = contents[0]
    if not isinstance(first, TextResourceContents):
        raise DemoError(f"{uri} did not return text")
    return json.loads(first.text)


def yes_to_everything(demo: Demo) -> ElicitationFnT:
    """An elicitation handler standing in for the human: it prints the question and answers yes."""

    async def answer(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        demo.show("The server asks the human:")
        demo.show("\n".join(f"  | {line}" for line in params.message.splitlines()))
        demo.show("The human answers: yes")
        return ElicitResult(action="accept", content={"confirm": True})

    return answer


def server_parameters(db: str) -> StdioServerParameters:
    """`python -m mcp_anyreach --db DB` with no Anyreach credential or setting, so it runs the sandbox."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ANYREACH_", "MCP_ANYREACH_"))}
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_anyreach", "--db", db], env=env)


@asynccontextmanager
async def connected(db: str, log: TextIO, elicitation: ElicitationFnT | None = None) -> AsyncGenerator[Client]:
    async with Client(stdio_client(server_parameters(db), errlog=log), elicitation_callback=elicitation) as client:
        yield client


async def support_agent(demo: Demo, client: Client) -> str:
    """The agent named Support, found through the agent directory, as a model would find it."""
    demo.begin("Find the support agent by name", 'list_agents(name="Support")')
    [agent] = (await call(client, "list_agents", {"name": "Support"}))["items"]
    demo.show(f"{agent['name']}: {agent['id']}, latest published version {agent['latest_published']}")
    return str(agent["id"])


def describe_inventory(inventory: dict[str, Any]) -> str:
    org = inventory["organization"]
    routing = inventory["routing"]["state"]
    severities: dict[str, int] = {}
    for finding in inventory["findings"]:
        severities[finding["severity"]] = severities.get(finding["severity"], 0) + len(finding["subjects"])
    counted = ", ".join(f"{count} {severity}" for severity, count in severities.items()) or "none"
    sandbox = " (sandbox: demo data, nothing real)" if inventory.get("sandbox") else ""
    return (
        f"{org['numbers']} numbers on {org['trunks']} trunks ({org['managed_trunks']} managed, "
        f"{org['byoc_trunks']} BYOC){sandbox}\nrouting: {routing}; findings: {counted}"
    )


async def mission_with_tokens(demo: Demo, client: Client) -> str:
    """Steps 1-9 as an unattended pipeline sees them: gated calls return a preview and a one-time token."""
    demo.title("Part 1: a client that cannot ask a human (confirmation by token)")
    demo.begin("What is in the account?", "read resource anyreach://inventory")
    demo.show(describe_inventory(await read_json(client, "anyreach://inventory")))

    demo.begin(f"Find numbers to buy in area code {AREA_CODE}", f"search_available_numbers(area_code={AREA_CODE!r})")
    offers = (await call(client, "search_available_numbers", {"area_code": AREA_CODE, "limit": 3}))["items"]
    if not offers:
        raise DemoError(f"the sandbox offers no numbers in area code {AREA_CODE}")
    for offer in offers:
        demo.show(f"{offer['phone_number']}  {offer.get('locality') or ''} {offer.get('region') or ''}")
    number: str = offers[0]["phone_number"]

    demo.begin(f"Buy {number}: the first call only previews", f"purchase_phone_number(phone_number={number!r})")
    preview = await call(client, "purchase_phone_number", {"phone_number": number})
    demo.show(f"status: {preview['status']}\n{preview['message']}")
    demo.begin("The human agreed: repeat the call with the token", "purchase_phone_number(..., confirmation_token=...)")
    bought = await confirm(client, "purchase_phone_number", {"phone_number": number}, preview)
    demo.show(f"status: {bought['status']}; {number} is on managed trunk {bought['result']['trunk_id']}")
    demo.changes.append(f"bought {number}")

    demo.begin(
        "Create a BYOC SIP trunk to your own carrier", f"create_trunk(name={TRUNK_NAME!r}, inbound=...)  (gated)"
    )
    inbound = {"allowed_addresses": [CARRIER_ADDRESS], "auth_username": "demo-in", "auth_password": "demo-secret-1"}
    creation = {"name": TRUNK_NAME, "inbound": inbound}
    preview = await call(client, "create_trunk", creation)
    demo.show(f"status: {preview['status']}\n{preview['message']}")
    demo.show("the human agreed: the same call again, with the confirmation_token")
    trunk = (await confirm(client, "create_trunk", creation, preview))["result"]
    trunk_id: str = trunk["id"]
    password = "set" if trunk["inbound"]["password_set"] else "not set"
    demo.show(f"trunk {trunk_id} ({trunk['kind']}), inbound from {CARRIER_ADDRESS}, password {password} (never shown)")
    demo.changes.append(f"created BYOC trunk {trunk_id}")

    demo.begin(f"Register {BYOC_NUMBER}, a number you own elsewhere", "register_phone_number(...)")
    registered = await call(client, "register_phone_number", {"phone_number": BYOC_NUMBER, "trunk_id": trunk_id})
    demo.show(f"{registered['phone_number']} is in the directory on trunk {registered['trunk_id']}")
    demo.changes.append(f"registered {BYOC_NUMBER}")

    agent_id = await support_agent(demo, client)
    assign = {"agent_id": agent_id, "phone_numbers": [number, BYOC_NUMBER], "direction": "inbound"}
    demo.begin("Make the support agent answer both numbers", "assign_agent_to_numbers(...)  (gated)")
    preview = await call(client, "assign_agent_to_numbers", assign)
    demo.show(f"status: {preview['status']}\n{preview['message']}")
    demo.show("the human agreed: the same call again, with the confirmation_token")
    assigned = await confirm(client, "assign_agent_to_numbers", assign, preview)
    for row in assigned["result"]:
        demo.show(f"confirmed: {row['phone_number']} answered by {row['inbound_agent']}")
    demo.changes.append(f"assigned agent {agent_id} to {number} and {BYOC_NUMBER}")

    await set_routing(demo, client, agent_id)

    demo.begin("Audit the account", "audit_inventory(min_severity='low')")
    audit = await call(client, "audit_inventory", {"min_severity": "low"})
    demo.show(f"counts: {audit['counts']}")
    for finding in audit["findings"][:5]:
        demo.show(f"{finding['severity']:>6}  {finding['message']}  (fix: {finding['fix']})")
    return number


async def set_routing(demo: Demo, client: Client, agent_id: str) -> None:
    routing = {"workflow_id": WORKFLOW_ID, "fallback_agent_id": agent_id}
    current = await call(client, "get_inbound_routing_config", {})
    tool = "update_inbound_routing_config" if current["configured"] else "create_inbound_routing_config"
    demo.begin("Route inbound calls through a workflow, falling back to the agent", f"{tool}(...)  (gated)")
    preview = await call(client, tool, routing)
    demo.show(f"status: {preview['status']}\n{preview['message']}")
    demo.show("the human agreed: the same call again, with the confirmation_token")
    done = await confirm(client, tool, routing, preview)
    demo.show(f"status: {done['status']}; workflow {done['result']['workflow_id']}, fallback {agent_id}")
    demo.changes.append(f"inbound routing: workflow {WORKFLOW_ID}, fallback agent {agent_id}")


async def confirm(client: Client, tool: str, arguments: dict[str, Any], preview: dict[str, Any]) -> dict[str, Any]:
    if preview["status"] != "confirmation_required":
        raise DemoError(f"{tool} should have asked for confirmation, got {preview['status']}")
    done = await call(client, tool, {**arguments, "confirmation_token": preview["confirmation_token"]})
    if done["status"] != "done":
        raise DemoError(f"{tool} with its token: {done['status']}: {done['message']}")
    return done


async def cleanup_with_elicitation(demo: Demo, client: Client, trunk_name: str) -> None:
    """Steps 10-12 as an assistant sees them: the server asks the human through MCP elicitation."""
    demo.title("Part 2: a client that can ask the human (confirmation by elicitation)")
    demo.begin("Read the inventory resource again", "read resource anyreach://inventory")
    inventory = await read_json(client, "anyreach://inventory")
    demo.show(describe_inventory(inventory))

    demo.begin(f"Delete {BYOC_NUMBER}", f"delete_phone_number(phone_number={BYOC_NUMBER!r})  (gated)")
    deleted = await call(client, "delete_phone_number", {"phone_number": BYOC_NUMBER})
    demo.show(f"status: {deleted['status']}: {deleted['message']}")
    if deleted["status"] != "done":
        raise DemoError(f"delete_phone_number: {deleted['status']}")
    demo.changes.append(f"deleted {BYOC_NUMBER}")

    trunks = (await call(client, "list_trunks", {"name": trunk_name}))["items"]
    for trunk in trunks:
        demo.begin(f"Delete the now empty trunk {trunk['id']}", "delete_trunk(...)  (gated)")
        result = await call(client, "delete_trunk", {"trunk_id": trunk["id"]})
        demo.show(f"status: {result['status']}: {result['message']}")
        demo.changes.append(f"deleted trunk {trunk['id']}")


async def show_views(demo: Demo, client: Client) -> None:
    """Step 13: the MCP Apps views a host draws next to these results, and how to see them."""
    demo.title("Part 3: what a host with MCP Apps draws (Claude, ChatGPT, VS Code and others)")
    demo.begin("Find the tools and resources that open a view", "tools/list, resources/list: _meta.ui.resourceUri")
    bound = [(tool.name, tool.meta) for tool in (await client.list_tools()).tools]
    bound += [(str(resource.uri), resource.meta) for resource in (await client.list_resources()).resources]
    for name, meta in bound:
        if meta and "resourceUri" in meta.get("ui", {}):
            uri = meta["ui"]["resourceUri"]
            (page,) = (await client.read_resource(uri)).contents
            size = len(getattr(page, "text", "").encode()) // 1024
            demo.show(f"{name} -> {uri} ({size} KiB, one self-contained page that loads nothing from the network)")
    demo.show(
        "To see it: connect this server to a host that supports MCP Apps and ask it to audit your telephony;\n"
        "audit_inventory's result then opens the inventory view (numbers by trunk, who answers each, findings).\n"
        "Hosts without MCP Apps show the same results as text. See docs/views.md."
    )


def run_demo(db: str | None) -> int:
    """Run the demo against `db` (a fresh temporary sandbox when None); 0 on success."""
    out = sys.stdout
    with tempfile.TemporaryDirectory(prefix="mcp-anyreach-demo-") as scratch:
        path = db or str(Path(scratch) / "sandbox.db")
        log_path = Path(scratch) / "server.log"
        try:
            anyio.run(_run, Demo(out), path, log_path)
        except (DemoError, OSError, TimeoutError) as exc:
            print(f"\nDemo failed: {exc}", file=sys.stderr)
            if log_path.exists():
                print(f"Server log:\n{log_path.read_text(errors='replace')[-4000:]}", file=sys.stderr)
            return ExitCode.FAILURE
    return ExitCode.SUCCESS


async def _run(demo: Demo, db: str, log_path: Path) -> None:
    demo.say(
        "mcp-anyreach demo: the real MCP server runs as a subprocess over stdio on the embedded sandbox\n"
        f"(demo data, nothing real or billed; database {db}). A real MCP client drives it below."
    )
    part_one_done = anyio.Event()
    number = ""

    async def part_two(log: TextIO) -> None:
        # Its server starts alongside the first one, and waits its turn.
        async with connected(db, log, yes_to_everything(demo)) as client:
            await part_one_done.wait()
            await cleanup_with_elicitation(demo, client, TRUNK_NAME)
            await show_views(demo, client)

    with log_path.open("w") as log, anyio.fail_after(STEP_TIMEOUT * 4):
        async with anyio.create_task_group() as parts:
            parts.start_soon(part_two, log)
            async with connected(db, log) as client:
                number = await mission_with_tokens(demo, client)
            part_one_done.set()
    demo.title("Summary")
    for change in demo.changes:
        demo.show(f"- {change}")
    demo.show(f"{number} stays bought, answered by the support agent; gated calls each needed a yes.")
    demo.say("\nThe demo finished; next: connect your assistant (see README.md).")
