"""Write a Markdown audit report of the telephony account, through a read-only MCP server.

The server runs with `--read-only`: only read tools exist and its API client refuses every non-GET
request, so this script cannot change anything, whatever it calls.

    python examples/audit_report.py --db /tmp/pipeline.db --output audit.md   # a sandbox file
    python examples/audit_report.py --output audit.md                          # the account in ANYREACH_TOKEN
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_types import TextResourceContents


def server(db: str | None) -> StdioServerParameters:
    flags = ["--read-only", *(["--sandbox", "--db", db] if db else [])]
    env = dict(os.environ)
    if db:  # a sandbox file: keep any real credential away from it
        env = {k: v for k, v in env.items() if not k.startswith(("ANYREACH_", "MCP_ANYREACH_"))}
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_anyreach", *flags], env=env)


async def collect(db: str | None, log: TextIO) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """The read-only server's tools, its audit (every severity) and the inventory resource."""
    with anyio.fail_after(120):
        async with Client(stdio_client(server(db), errlog=log)) as client:
            tools = [
                {"name": tool.name, "read_only": bool(tool.annotations and tool.annotations.read_only_hint)}
                for tool in (await client.list_tools()).tools
            ]
            result = await client.call_tool("audit_inventory", {"min_severity": "info"})
            if result.is_error or result.structured_content is None:
                raise RuntimeError(f"audit_inventory failed: {result.content}")
            contents = (await client.read_resource("anyreach://inventory")).contents[0]
            if not isinstance(contents, TextResourceContents):
                raise RuntimeError("anyreach://inventory did not return JSON text")
            return tools, result.structured_content, json.loads(contents.text)


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]


def report(tools: list[dict[str, Any]], audit: dict[str, Any], inventory: dict[str, Any], when: datetime) -> str:
    org = audit["organization"]
    routing = audit["routing"]
    writable = [tool["name"] for tool in tools if not tool["read_only"]]
    lines = [
        "# Telephony audit",
        "",
        f"Generated {when:%Y-%m-%d %H:%M} UTC by a read-only mcp-anyreach server "
        f"({len(tools)} tools, {'none' if not writable else ', '.join(writable)} writable).",
    ]
    if audit["sandbox"]:
        lines += ["", "> Sandbox: demo data, nothing real."]
    lines += ["", "## Inventory", ""]
    lines += table(
        ["numbers", "trunks", "managed trunks", "BYOC trunks", "routing"],
        [[org["numbers"], org["trunks"], org["managed_trunks"], org["byoc_trunks"], routing["state"]]],
    )
    lines += ["", "### Numbers per trunk", ""]
    lines += table(
        ["trunk", "name", "kind", "numbers"],
        [[t["trunk_id"], t["name"], t["kind"], t["numbers"]] for t in inventory["numbers_per_trunk"]],
    )
    lines += ["", "## Findings", ""]
    counts = ", ".join(f"{count} {severity}" for severity, count in audit["counts"].items())
    lines += [f"By severity: {counts}.", ""]
    if audit["findings"]:
        lines += table(
            ["severity", "subject", "finding", "fix with"],
            [[f["severity"], ", ".join(f["subjects"]), f["message"], f["fix"] or "-"] for f in audit["findings"]],
        )
    else:
        lines.append("No findings.")
    for code, more in audit["findings_not_listed"].items():
        lines.append(f"\n{more} more `{code}` findings are not listed.")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="audit the embedded sandbox in this SQLite file")
    parser.add_argument("--output", type=Path, default=Path("audit-report.md"), help="default: audit-report.md")
    args = parser.parse_args()
    try:
        with open(os.devnull, "w") as quiet:
            tools, audit, inventory = anyio.run(collect, args.db, quiet)
    except (RuntimeError, TimeoutError, OSError) as exc:
        print(f"audit_report: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(report(tools, audit, inventory, datetime.now(UTC)))
    total = sum(audit["counts"].values())
    print(f"wrote {args.output}: {total} finding(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
