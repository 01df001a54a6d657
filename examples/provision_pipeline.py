"""An unattended provisioning pipeline that goes through the MCP server, never around it.

It makes the account look like the plan below and changes only what differs, so a second run changes
nothing. Gated calls use the token flow: the first call returns a preview and a `confirmation_token`,
the pipeline logs the preview (its approval is this reviewed script) and repeats the call with the token.

    python examples/provision_pipeline.py --db /tmp/pipeline.db            # on a sandbox file
    python examples/provision_pipeline.py --agent-id agt_... --json        # on the account in ANYREACH_TOKEN

The plan: a BYOC trunk named --trunk-name that accepts calls from --carrier-address; the --number
numbers registered on it; each of them answered by --agent-id (numbers another agent already answers are
reported, not taken over); inbound routing through --workflow-id with the agent as fallback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

DEFAULT_NUMBERS = ["+12125550161", "+12125550162"]


@dataclass
class Pipeline:
    client: Client
    changes: list[str] = field(default_factory=list[str])
    unchanged: list[str] = field(default_factory=list[str])

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments)
        if result.is_error:
            text = " ".join(getattr(block, "text", "") for block in result.content)
            raise RuntimeError(f"{tool}: {text}")
        return result.structured_content or {}

    async def gated(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Preview, log the preview, confirm with the token."""
        preview = await self.call(tool, arguments)
        if preview["status"] == "done":  # a server started with --no-confirm
            return preview["result"]
        if preview["status"] != "confirmation_required":
            raise RuntimeError(f"{tool}: {preview['status']}: {preview['message']}")
        print(f"  approving {tool}: {preview['message'].splitlines()[0]}", file=sys.stderr)
        done = await self.call(tool, {**arguments, "confirmation_token": preview["confirmation_token"]})
        if done["status"] != "done":
            raise RuntimeError(f"{tool}: {done['status']}: {done['message']}")
        return done["result"]

    def changed(self, what: str) -> None:
        self.changes.append(what)

    def ok(self, what: str) -> None:
        self.unchanged.append(what)


async def ensure_trunk(pipeline: Pipeline, name: str, carrier_address: str) -> str:
    trunks = (await pipeline.call("list_trunks", {"name": name, "limit": 100}))["items"]
    trunk = next((t for t in trunks if t["name"] == name and t["kind"] == "byoc"), None)
    inbound = {"allowed_addresses": [carrier_address]}
    if trunk is None:
        trunk = await pipeline.call("create_trunk", {"name": name, "inbound": inbound})
        pipeline.changed(f"created BYOC trunk {name!r} ({trunk['id']})")
    elif (trunk["inbound"] or {}).get("allowed_addresses") != [carrier_address]:
        await pipeline.gated("update_trunk", {"trunk_id": trunk["id"], "inbound": inbound})
        pipeline.changed(f"trunk {name!r}: inbound calls allowed from {carrier_address} only")
    else:
        pipeline.ok(f"trunk {name!r} ({trunk['id']})")
    return str(trunk["id"])


async def ensure_registered(pipeline: Pipeline, numbers: list[str], trunk_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number in numbers:
        matches = (await pipeline.call("list_phone_numbers", {"contains": number, "limit": 10}))["items"]
        found = next((row for row in matches if row["phone_number"] == number), None)
        if found is None:
            row = await pipeline.call("register_phone_number", {"phone_number": number, "trunk_id": trunk_id})
            pipeline.changed(f"registered {number} on trunk {trunk_id}")
        else:
            row = found
            where = "on the trunk" if row["trunk_id"] == trunk_id else f"on another trunk ({row['trunk_id']}), left"
            pipeline.ok(f"{number} is registered {where}")
        rows.append(row)
    return rows


async def ensure_answered(pipeline: Pipeline, rows: list[dict[str, Any]], agent_id: str, version: int) -> None:
    unanswered = [row["phone_number"] for row in rows if not row["inbound_agent_version_id"]]
    for row in rows:
        if row["inbound_agent_version_id"]:
            pipeline.ok(f"{row['phone_number']} is answered by agent version {row['inbound_agent_version_id']}")
    if unanswered:
        arguments = {"agent_id": agent_id, "version": version, "phone_numbers": unanswered, "direction": "inbound"}
        await pipeline.gated("assign_agent_to_numbers", arguments)
        pipeline.changed(f"agent {agent_id} v{version} answers {', '.join(unanswered)}")


async def ensure_routing(pipeline: Pipeline, workflow_id: str, fallback_agent_id: str) -> None:
    state = await pipeline.call("get_inbound_routing_config", {})
    wanted = {"workflow_id": workflow_id, "fallback_agent_id": fallback_agent_id, "enabled": True}
    if not state["configured"]:
        await pipeline.gated("create_inbound_routing_config", wanted)
        pipeline.changed(f"inbound routing created: workflow {workflow_id}, fallback {fallback_agent_id}")
        return
    config = state["config"]
    if all(config.get(key) == value for key, value in wanted.items()):
        pipeline.ok(f"inbound routing runs workflow {workflow_id} with fallback {fallback_agent_id}")
        return
    await pipeline.gated("update_inbound_routing_config", wanted)
    pipeline.changed(f"inbound routing updated: workflow {workflow_id}, fallback {fallback_agent_id}")


def sandbox_agent_id(db: str) -> str:
    """The sandbox's first demo agent: the MCP server has no tool that lists agents."""
    from mcp_anyreach.sandbox import SandboxStore

    store = SandboxStore(db)
    try:
        return store.seed_demo().demo.agent_ids[0]
    finally:
        store.close()


def server(args: argparse.Namespace) -> StdioServerParameters:
    flags = ["--sandbox", "--db", args.db] if args.db else []
    env = dict(os.environ)
    if args.db:  # a sandbox file: keep any real credential away from it
        env = {k: v for k, v in env.items() if not k.startswith(("ANYREACH_", "MCP_ANYREACH_"))}
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_anyreach", *flags], env=env)


async def provision(args: argparse.Namespace, log: TextIO) -> Pipeline:
    agent_id: str = args.agent_id or sandbox_agent_id(args.db)
    with anyio.fail_after(120):
        async with Client(stdio_client(server(args), errlog=log)) as client:
            pipeline = Pipeline(client)
            trunk_id = await ensure_trunk(pipeline, args.trunk_name, args.carrier_address)
            rows = await ensure_registered(pipeline, args.number or DEFAULT_NUMBERS, trunk_id)
            await ensure_answered(pipeline, rows, agent_id, args.agent_version)
            await ensure_routing(pipeline, args.workflow_id, agent_id)
    return pipeline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="run on the embedded sandbox in this SQLite file")
    parser.add_argument("--trunk-name", default="Pipeline carrier (BYOC)")
    parser.add_argument("--carrier-address", default="203.0.113.20/32", help="IP or CIDR of your carrier")
    parser.add_argument("--number", action="append", help=f"E.164, repeatable (default: {DEFAULT_NUMBERS})")
    parser.add_argument("--agent-id", help="agent that answers the numbers (default: the sandbox's demo agent)")
    parser.add_argument("--agent-version", type=int, default=1)
    parser.add_argument("--workflow-id", default="wf_pipeline_router")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    if not args.agent_id and not args.db:
        parser.error("--agent-id is required unless --db names a sandbox file")
    try:
        with open(os.devnull, "w") as quiet:
            pipeline = anyio.run(provision, args, quiet)
    except (RuntimeError, TimeoutError, OSError) as exc:
        print(f"provision_pipeline: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"changes": pipeline.changes, "unchanged": pipeline.unchanged}, indent=2))
    else:
        for line in pipeline.changes:
            print(f"changed    {line}")
        for line in pipeline.unchanged:
            print(f"unchanged  {line}")
        print(f"{len(pipeline.changes)} change(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
