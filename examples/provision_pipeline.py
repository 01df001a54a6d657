"""An unattended provisioning pipeline that goes through the MCP server, never around it.

It describes the account it wants as a desired-state document (anyreach://schema/desired-state) and hands it
to `plan_changes`; if anything differs, it logs the plan (its approval is this reviewed script) and confirms
it with `apply_changes`, one call for every change. A second run plans nothing and changes nothing.

    python examples/provision_pipeline.py --db /tmp/pipeline.db        # on a sandbox file
    python examples/provision_pipeline.py --agent Support --json       # on the account in ANYREACH_TOKEN

The document: a BYOC trunk named --trunk-name that accepts calls from --carrier-address; the --number numbers
on it, answered by --agent (an id or a name; its latest published version); inbound routing through
--workflow-id with that agent as fallback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

DEFAULT_NUMBERS = ["+12125550161", "+12125550162"]


def desired_state(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "trunks": {"items": [{"name": args.trunk_name, "inbound": {"allowed_addresses": [args.carrier_address]}}]},
        "numbers": {
            "items": [
                {"phone_number": number, "trunk": args.trunk_name, "inbound_agent": args.agent}
                for number in args.number or DEFAULT_NUMBERS
            ]
        },
        "routing": {"workflow_id": args.workflow_id, "fallback_agent": args.agent},
    }


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        raise RuntimeError(f"{tool}: {' '.join(getattr(block, 'text', '') for block in result.content)}")
    return result.structured_content or {}


def server(args: argparse.Namespace) -> StdioServerParameters:
    flags = ["--sandbox", "--db", args.db] if args.db else []
    env = dict(os.environ)
    if args.db:  # a sandbox file: keep any real credential away from it
        env = {k: v for k, v in env.items() if not k.startswith(("ANYREACH_", "MCP_ANYREACH_"))}
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_anyreach", *flags], env=env)


async def provision(args: argparse.Namespace, log: TextIO) -> list[str]:
    with anyio.fail_after(120):
        async with Client(stdio_client(server(args), errlog=log)) as client:
            plan = await call(client, "plan_changes", {"desired_state": desired_state(args)})
            changes = [step["detail"] for step in plan["steps"]]
            if not plan["plan_id"]:
                return changes
            print(f"approving: {plan['summary']}", *plan["impact"], sep="\n  ", file=sys.stderr)
            arguments = {"plan_id": plan["plan_id"], "confirmation_token": plan.get("confirmation_token")}
            applied = await call(client, "apply_changes", arguments)
            if applied["status"] != "done":
                raise RuntimeError(f"apply_changes: {applied['status']}: {applied['message']}")
    return changes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="run on the embedded sandbox in this SQLite file")
    parser.add_argument("--trunk-name", default="Pipeline carrier (BYOC)")
    parser.add_argument("--carrier-address", default="203.0.113.20/32", help="IP or CIDR of your carrier")
    parser.add_argument("--number", action="append", help=f"E.164, repeatable (default: {DEFAULT_NUMBERS})")
    parser.add_argument("--agent", default="Support", help="agent id or name that answers (default: Support)")
    parser.add_argument("--workflow-id", default="wf_pipeline_router")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    try:
        with open(os.devnull, "w") as quiet:
            changes = anyio.run(provision, args, quiet)
    except (RuntimeError, TimeoutError, OSError) as exc:
        print(f"provision_pipeline: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"changes": changes}, indent=2))
    else:
        for line in changes:
            print(f"changed    {line}")
        print(f"{len(changes)} change(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
