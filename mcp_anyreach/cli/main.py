"""Command line entry point: parses flags and wires the parts together, nothing more.

Nothing here writes to stdout: on the stdio transport stdout belongs to the protocol. Options that several
commands take are declared once, in options.py; what each exit code means is said once, in exit_codes.py.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from mcp_anyreach.settings import Settings

from mcp_anyreach import __version__
from mcp_anyreach.cli import options
from mcp_anyreach.cli.exit_codes import TABLE, ExitCode

COMMANDS = ("serve", "sandbox", "demo", "doctor", "export", "plan", "apply", "audit-log")
SANDBOX_EXAMPLES = """examples:
  --faults "error_rate=0.1,rate_limit_rate=0.05,latency_ms=20,drop_after_write_rate=0.05,seed=1"
  --behaviour "pagination=link,put=replace,purchase_body=empty,max_limit=50"
      pagination: header (X-Next-Cursor) | link | next_cursor | cursor | next (envelopes) | none
      put: merge | replace        purchase_body: row | empty | status        max_limit: 1-100"""
logger = logging.getLogger("mcp_anyreach")


def _sandbox(args: argparse.Namespace) -> int:
    from mcp_anyreach.sandbox import serve

    serve(host=args.host, port=args.port, db=args.db, faults=args.faults, behaviour=args.behaviour)
    return ExitCode.SUCCESS


def _behaviour(spec: str) -> Any:
    from mcp_anyreach.sandbox.behaviour import behaviour_argument

    return behaviour_argument(spec)


def _demo(args: argparse.Namespace) -> int:
    from mcp_anyreach.cli.demo import run_demo

    return run_demo(db=args.db)


def _doctor(args: argparse.Namespace) -> int:
    from mcp_anyreach.cli.doctor.diagnosis import run_doctor

    # The doctor looks at the set-up as it is; serve is what refuses to start on unknown variables.
    settings = settings_from(args, check_unknown=False)
    if settings is None:
        return ExitCode.FAILURE
    return run_doctor(settings, as_machine_readable=args.json, per_check=args.timeout)


def settings_from(args: argparse.Namespace, *, check_unknown: bool = True) -> Settings | None:
    """The environment's settings with the options given over them (those named after a Settings field), or
    None after saying on stderr what to fix."""
    import os

    from pydantic import ValidationError

    from mcp_anyreach.settings import Settings, unknown_variables
    from mcp_anyreach.validation import describe

    flags = {
        key: value
        for key, value in vars(args).items()
        if key in Settings.model_fields and value is not None and value is not False
    }

    if check_unknown and (unknown := unknown_variables(os.environ)):
        print(
            "mcp-anyreach: unknown environment variables, refusing to start: "
            + ", ".join(unknown)
            + ". Fix or unset them; `mcp-anyreach serve --help` and docs/reference.md list the valid ones.",
            file=sys.stderr,
        )
        return None
    try:
        return Settings(**flags)
    except ValidationError as exc:
        problems = describe(exc, whole="settings", separator="\n- ")
        print(f"mcp-anyreach: invalid configuration:\n- {problems}", file=sys.stderr)
        return None


def _export(args: argparse.Namespace) -> int:
    from mcp_anyreach.cli import change_commands as commands

    settings = settings_from(args)
    if settings is None:
        return ExitCode.FAILURE
    output = Path(args.output) if args.output else None
    as_json = args.json or (output is not None and output.suffix == ".json")
    return commands.run(
        lambda: commands.export(settings, output, as_json=as_json, out=sys.stdout, organization=args.organization)
    )


def _plan(args: argparse.Namespace) -> int:
    from mcp_anyreach.cli import change_commands as commands

    settings = settings_from(args)
    if settings is None:
        return ExitCode.FAILURE
    return commands.run(
        lambda: commands.plan(
            settings, Path(args.file), as_json=args.json, out=sys.stdout, organization=args.organization
        )
    )


def _apply(args: argparse.Namespace) -> int:
    from mcp_anyreach.cli import change_commands as commands

    settings = settings_from(args)
    if settings is None:
        return ExitCode.FAILURE

    async def ask(question: str) -> bool:
        import anyio.to_thread

        print(question, end="", file=sys.stderr, flush=True)
        return (await anyio.to_thread.run_sync(sys.stdin.readline)).strip() == "yes"

    return commands.run(
        lambda: commands.apply(
            settings,
            Path(args.file),
            auto_approve=args.auto_approve,
            as_json=args.json,
            out=sys.stdout,
            ask=ask if sys.stdin.isatty() else None,
            organization=args.organization,
        )
    )


def _audit_log(args: argparse.Namespace) -> int:
    from mcp_anyreach.cli import audit_history

    return audit_history.run(
        args.file, number=args.number, trunk=args.trunk, as_json=args.json, organization=args.organization
    )


def _serve(args: argparse.Namespace) -> int:
    # Start-up creates a large heap that lives as long as the process (the SDK, pydantic validators, the
    # tools); the cyclic collector would walk it again and again while it grows. It is paused until the
    # server is built, then what exists is frozen out of later collections: hosts wait less on every launch.
    gc.disable()
    import anyio

    settings = settings_from(args)
    if settings is None:
        return ExitCode.FAILURE
    if not settings.uses_sandbox and settings.token is not None:
        from mcp_anyreach.cli.credentials import credential_problem

        if problem := credential_problem(
            settings.token.get_secret_value(), [organization.id for organization in settings.organizations]
        ):
            print(f"mcp-anyreach: {problem} (`mcp-anyreach doctor` checks the whole set-up)", file=sys.stderr)
            return ExitCode.FAILURE

    from mcp_anyreach.server.gate.audit_log import AuditLog, AuditUnavailable
    from mcp_anyreach.server.http.transports import check_exposure

    try:
        check_exposure(settings)
        AuditLog(settings.audit_log).check()
        anyio.run(_run, settings)
    except AuditUnavailable as exc:
        print(f"mcp-anyreach: cannot append to the audit log {exc}; refusing to start without it.", file=sys.stderr)
        return ExitCode.FAILURE
    except ValueError as exc:  # bad toolset/tool names, unsafe HTTP exposure: say so, no traceback
        print(f"mcp-anyreach: {exc}", file=sys.stderr)
        return ExitCode.FAILURE
    except KeyboardInterrupt:
        pass
    return ExitCode.SUCCESS


async def _run(settings: Settings) -> None:
    from mcp_anyreach.cli.backend import audit_organization, connect_all, unreachable_api_logged
    from mcp_anyreach.server import build_server
    from mcp_anyreach.server.http.transports import http_app
    from mcp_anyreach.server.telemetry import configure_tracing
    from mcp_anyreach.shared_state import open_shared_states

    if configure_tracing():
        logger.info("OpenTelemetry: exporting traces as the OTEL_* variables say")
    if settings.no_confirm:
        logger.warning("--no-confirm: purchases, deletions and routing changes run WITHOUT any confirmation")
    async with (
        connect_all(settings) as clients,
        unreachable_api_logged(settings),
        open_shared_states(settings, [client.organization for client in clients.values()]) as states,
    ):
        shared = {named: states[client.organization] for named, client in clients.items()}
        first = next(iter(clients.values()))
        server = build_server(settings, clients, shared=shared, organization=audit_organization(first))
        gc.freeze()
        gc.enable()
        if settings.transport == "stdio":
            await server.run_stdio_async()
            return
        import uvicorn

        from mcp_anyreach.listening import AnnouncingServer

        app = http_app(server, settings)
        path = "/sse" if settings.transport == "sse" else "/mcp"
        config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning")
        await AnnouncingServer(
            config, lambda url: logger.info("serving %s on %s%s", settings.transport, url, path)
        ).serve()


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits 1 like every other failure: argparse's own 2 means "changes pending"
    to a pipeline reading `plan` (exit_codes.py)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.FAILURE, f"{self.prog}: error: {message}\n")


def _serve_flags(parser: argparse.ArgumentParser) -> None:
    from mcp_anyreach.settings import Settings  # the defaults live there, once

    def default(name: str) -> str:
        return f"default {Settings.model_fields[name].default}"

    parser.add_argument("--transport", choices=["stdio", "sse", "streamable-http"], help=default("transport"))
    options.HOST.add(parser, help=f"HTTP bind address ({default('host')})")
    options.PORT.add(parser, help=f"HTTP port ({default('port')}; 0: any free port, logged at start-up)")
    parser.add_argument("--stateless", action="store_true", help="stateless streamable HTTP (for replicas)")
    options.READ_ONLY.add(parser)
    parser.add_argument("--toolsets", help="comma-separated: numbers,purchasing,trunks,routing,agents,audit,changes")
    parser.add_argument("--tools", help="comma-separated tool names (added to --toolsets)")
    parser.add_argument("--no-confirm", action="store_true", help="skip confirmation gates (pipelines only)")
    parser.add_argument(
        "--max-purchases", type=int, help=f"numbers the organization may buy per window ({default('max_purchases')})"
    )
    parser.add_argument("--purchase-window", help="the rolling window of --max-purchases, e.g. 24h, 90m")
    parser.add_argument("--redis-url", help="Redis (or Valkey) that replicas share state in, e.g. redis://host:6379/0")
    options.AUDIT_LOG.add(parser)
    options.TOKEN_STORE.add(parser)
    options.account(parser, db_help="the embedded sandbox's SQLite file (default under the user data dir)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mcp-anyreach",
        description="MCP server for Anyreach telephony. Without ANYREACH_TOKEN it runs on the embedded sandbox.",
        epilog=TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mcp-anyreach {__version__}")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the MCP server (the default command)")
    _serve_flags(serve)
    serve.set_defaults(run=_serve)
    _sandbox_command(commands.add_parser)
    demo = commands.add_parser("demo", help="walk through every feature against a fresh sandbox, step by step")
    options.DB.add(demo, help="keep the demo's sandbox in this SQLite file (default: fresh)")
    demo.set_defaults(run=_demo)
    _doctor_command(commands.add_parser)
    _change_commands(commands.add_parser)
    _audit_log_command(commands.add_parser)
    return parser


def _sandbox_command(add_parser: Callable[..., argparse.ArgumentParser]) -> None:
    sandbox = add_parser(
        "sandbox",
        help="serve the embedded Anyreach-compatible API on loopback",
        description="Serve the embedded Anyreach-compatible API (demo data) for curl, clients and tests.",
        epilog=SANDBOX_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.HOST.add(sandbox, help="bind address (default: %(default)s)", default="127.0.0.1")
    options.PORT.add(sandbox, help="port (default: %(default)s; 0: any free port, shown at start-up)", default=8787)
    options.DB.add(sandbox, help="SQLite file (default: sandbox.db under the user data dir; :memory: forgets)")
    sandbox.add_argument("--faults", default=None, help="inject 5xx, 429, latency and dropped connections")
    sandbox.add_argument(
        "--behaviour",
        type=_behaviour,
        default=None,
        help="answer where the vendor's docs are silent another way (default: the contract's choices)",
    )
    sandbox.set_defaults(run=_sandbox)


def _doctor_command(add_parser: Callable[..., argparse.ArgumentParser]) -> None:
    doctor = add_parser(
        "doctor",
        help="check the set-up for a real Anyreach account: token, network, scopes, managed account, files",
        description="Check, in order, everything a server needs for the account in ANYREACH_TOKEN (and the other "
        "ANYREACH_ variables; each organization ANYREACH_ORG_ID names in a section of its own); print the fix for "
        "each failure. Exit code 0 when the server can work, 1 when not. It never writes to the account.",
    )
    options.READ_ONLY.add(doctor, help="check only what a --read-only server needs")
    options.JSON.add(doctor, help="print the report as JSON (for machines)")
    options.AUDIT_LOG.add(doctor, help="the audit log the server would write (else MCP_ANYREACH_AUDIT_LOG)")
    options.TOKEN_STORE.add(doctor, help="the used-token store the server would use (else its variable)")
    doctor.add_argument("--timeout", type=float, default=10.0, help="seconds per check (default: %(default)s)")
    doctor.set_defaults(run=_doctor)


def _change_commands(add_parser: Callable[..., argparse.ArgumentParser]) -> None:
    """export / plan / apply: the account as a desired-state document, for pipelines."""
    export = add_parser("export", help="print the account as a desired-state document (no secrets)")
    export.add_argument("--output", help="write to this file (YAML, or JSON when it ends in .json)")
    options.JSON.add(export, help="JSON instead of YAML")
    options.ORGANIZATION.add(
        export,
        help="the organization to export, by id or name, where ANYREACH_ORG_ID names several (the document "
        "then names it)",
    )
    options.account(export)
    export.set_defaults(run=_export)
    plan = add_parser(
        "plan", help="show what applying a document would change; exit 0 nothing to do, 2 changes pending, 1 error"
    )
    options.DOCUMENT.add(plan)
    options.JSON.add(plan, help="print the plan as JSON")
    options.ORGANIZATION.add(plan)
    options.account(plan)
    plan.set_defaults(run=_plan)
    apply = add_parser("apply", help="make the account match a document, after a yes (or --auto-approve)")
    options.DOCUMENT.add(apply)
    apply.add_argument("--auto-approve", action="store_true", help="apply without asking (needed without a terminal)")
    options.JSON.add(apply, help="print the plan and the outcome as JSON")
    options.AUDIT_LOG.add(apply, help="append every step to this JSON-lines file")
    options.ORGANIZATION.add(apply)
    options.account(apply)
    apply.set_defaults(run=_apply)


def _audit_log_command(add_parser: Callable[..., argparse.ArgumentParser]) -> None:
    audit_log = add_parser(
        "audit-log",
        help="who changed a number or trunk, when, with whose approval: the writes in an --audit-log file",
        description="List the writes recorded in audit log files (JSON lines, as --audit-log writes them), oldest "
        "first: time, tool, outcome, organization, caller and approval. Exit code 0 whether or not a write is "
        "found, 1 when a file cannot be read; a line that is not an audit line is reported and skipped.",
    )
    audit_log.add_argument(
        "--file", action="append", required=True, help="an audit log file (repeat for each replica's file)"
    )
    audit_log.add_argument("--number", help="only writes naming this phone number (E.164, e.g. +14155550102)")
    audit_log.add_argument("--trunk", help="only writes naming this trunk id")
    options.ORGANIZATION.add(
        audit_log, help="only writes in this organization: its id, or a name ANYREACH_ORG_ID gives it"
    )
    options.JSON.add(audit_log, help="print the writes as JSON")
    audit_log.set_defaults(run=_audit_log)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "serve")
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    return args.run(args)
