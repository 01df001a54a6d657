"""`mcp-anyreach export | plan | apply`: the change-set engine on the command line, for pipelines (GitOps).

Exit codes are exit_codes.py's: 0 nothing to do (or applied), 2 changes pending (plan only), 1 an error (a
refusal, an API failure, a step that failed, an apply not approved). Output goes to stdout (these commands
are not the stdio server); logs and questions go to stderr. Nothing here imports the MCP SDK.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import IO, Any

import anyio
import yaml

from mcp_anyreach.api import AnyreachClient, AnyreachError
from mcp_anyreach.changes.actions import SECRET_PREFIX, organization_secrets
from mcp_anyreach.changes.desired import DesiredState, export_document, load_document
from mcp_anyreach.changes.document_text import FILE_MAX_BYTES, check_size
from mcp_anyreach.changes.engine import plan_document, remember_undo, stale_resources
from mcp_anyreach.changes.executor import RunStep, missing_secrets, run_plan
from mcp_anyreach.changes.model import Plan, Step
from mcp_anyreach.changes.results import ApplyReport, PlanView
from mcp_anyreach.changes.snapshot import read_snapshot
from mcp_anyreach.changes.store import MemoryPlans
from mcp_anyreach.changes.undo_plan import inverse_document
from mcp_anyreach.changes.undo_store import UNDO_TTL_TEXT, MemoryUndo, UndoRecord, UndoStore
from mcp_anyreach.cli.backend import audit_organization, connect_all
from mcp_anyreach.cli.exit_codes import ExitCode
from mcp_anyreach.cli.organizations import choose_organization, shown
from mcp_anyreach.domain.api_errors import error_message
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.server.gate.audit_log import AuditLog, AuditUnavailable
from mcp_anyreach.settings import Organization, Settings
from mcp_anyreach.shared_state import open_shared_state


async def export(
    settings: Settings, output: Path | None, *, as_json: bool, out: IO[str], organization: str | None = None
) -> int:
    """The chosen organization as a document; where several are configured it names that organization."""
    chosen = choose_organization(settings, option=organization)
    async with connect_to(settings.model_copy(update={"read_only": True}), chosen) as client:
        document = export_document(await read_snapshot(client), organization=None if chosen is None else chosen.id)
    text = json.dumps(document, indent=2) + "\n" if as_json else _yaml(document)
    if output is None:
        out.write(text)
    else:
        await anyio.Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return ExitCode.SUCCESS


async def plan(
    settings: Settings, document: Path, *, as_json: bool, out: IO[str], organization: str | None = None
) -> int:
    doc = await _load(document)
    chosen = choose_organization(settings, option=organization, document=doc.organization)
    async with connect_to(settings.model_copy(update={"read_only": True}), chosen) as client:
        planned = await plan_document(client, MemoryPlans(), doc, save=False, organization=_called(settings, chosen))
    _need_secrets(planned, chosen)
    _show(planned, as_json=as_json, out=out, hint="run `mcp-anyreach apply` with the same file", organization=chosen)
    return ExitCode.CHANGES_PENDING if planned.steps else ExitCode.SUCCESS


async def apply(
    settings: Settings,
    document: Path,
    *,
    auto_approve: bool,
    as_json: bool,
    out: IO[str],
    ask: Callable[[str], Awaitable[bool]] | None = None,
    organization: str | None = None,
) -> int:
    """Plan, show, ask (a terminal) or require --auto-approve, check the plan is still fresh, run it, in the
    organization the run chose (choose_organization)."""
    if settings.read_only:
        print(
            "mcp-anyreach apply: MCP_ANYREACH_READ_ONLY is set, so nothing may be changed and nothing was. "
            "Run `mcp-anyreach plan` to see what would change, or unset MCP_ANYREACH_READ_ONLY to apply.",
            file=sys.stderr,
        )
        return ExitCode.FAILURE
    AuditLog(settings.audit_log).check()
    store = MemoryPlans()
    doc = await _load(document)
    chosen = choose_organization(settings, option=organization, document=doc.organization)
    async with connect_to(settings.model_copy(update={"read_only": False}), chosen) as client:
        audit = AuditLog(settings.audit_log, unnamed="cli", organization=audit_organization(client))
        planned = await plan_document(client, store, doc, save=False, organization=_called(settings, chosen))
        _need_secrets(planned, chosen)
        _show(planned, as_json=as_json, out=out, hint="confirm to apply", organization=chosen)
        if not planned.steps:
            return ExitCode.SUCCESS
        via = "auto_approve" if auto_approve else "terminal"
        if not auto_approve:
            if ask is None:
                print(
                    "mcp-anyreach apply: no terminal to ask on; review the plan and pass --auto-approve to apply it.",
                    file=sys.stderr,
                )
                return ExitCode.FAILURE
            where = f" in organization {shown(chosen)}" if chosen else ""
            if not await ask(f"Apply these {len(planned.steps)} steps{where}? Only 'yes' is accepted: "):
                print("Apply cancelled; nothing changed.", file=sys.stderr)
                return ExitCode.FAILURE
        if moved := await stale_resources(client, planned):
            print(
                f"mcp-anyreach apply: {len(moved)} resources changed since planning ({', '.join(moved[:5])}); "
                "nothing was done. Run it again.",
                file=sys.stderr,
            )
            return ExitCode.FAILURE
        report = await run_plan(
            client, planned, _audited(audit, via), env=os.environ, store=store, secrets=_secrets(chosen)
        )
        async with _undo_records(settings, client.organization) as undos:
            report = await remember_undo(client, undos, planned, report, made_by=f"mcp-anyreach apply {document.name}")
            record = await undos.load(report.undo_id) if report.undo_id else None
            shared = not isinstance(undos, MemoryUndo)
    _report(report, as_json=as_json, out=out)
    if record is not None:
        _undo(record, shared=shared, as_json=as_json, out=out, organization=chosen)
    return ExitCode.SUCCESS if report.complete else ExitCode.FAILURE


@asynccontextmanager
async def connect_to(settings: Settings, organization: Organization | None) -> AsyncGenerator[AnyreachClient]:
    """An open API client acting in `organization` (None: the one organization the settings name)."""
    async with connect_all(settings) as clients:
        yield next(iter(clients.values())) if organization is None else clients[organization]


@asynccontextmanager
async def _undo_records(settings: Settings, namespace: str) -> AsyncGenerator[UndoStore]:
    """The MCP server's undo records when a shared store is configured (its plan_changes can then plan the undo),
    else this command's own, which end with it."""
    if settings.redis_url is None and settings.token_store is None:
        yield MemoryUndo()
        return
    async with open_shared_state(settings, namespace) as state:
        yield state.undo


def _undo(
    record: UndoRecord, *, shared: bool, as_json: bool, out: IO[str], organization: Organization | None = None
) -> None:
    """The undo id, and the inverse as a document to keep (naming its organization where several are configured,
    as export does): without a shared store the id ends with this command."""
    document, comments = inverse_document(record)
    if organization is not None:
        document = {"organization": organization.id, **document}
    if as_json:
        out.write(json.dumps({"undo_id": record.id, "undo_document": document, "undo_notes": comments}, indent=2))
        out.write("\n")
        return
    kept = (
        f"kept {UNDO_TTL_TEXT} in the shared store: the MCP server's plan_changes plans it with "
        f'{{"op": "undo", "undo_id": "{record.id}"}}'
        if shared
        else "kept only while this command ran (no MCP_ANYREACH_TOKEN_STORE or MCP_ANYREACH_REDIS_URL is set)"
    )
    out.write(f"Undo id {record.id}, {kept}.\n")
    out.write("To undo this apply later, keep the document below (say as undo.yaml), then run `mcp-anyreach plan ")
    out.write("undo.yaml` and `mcp-anyreach apply undo.yaml`:\n")
    out.write("".join(f"# {line}\n" for line in comments))
    out.write(_yaml(document))


def _audited(audit: AuditLog, via: str) -> RunStep:
    async def run_step(plan_id: str, step: Step, call: Callable[[], Awaitable[object]]) -> object:
        arguments = step.audit_arguments(plan_id)
        try:
            attempt = audit.attempted(step.tool, arguments, via=via, cause=_cause)
        except AuditUnavailable as exc:
            raise Refusal(f"The audit log could not record this step ({exc}); it was not attempted.") from None
        with attempt:
            return await call()

    return run_step


def _cause(exc: Exception) -> str:
    if isinstance(exc, AnyreachError):
        return error_message(exc, retry_safe=False)
    return str(exc) or type(exc).__name__


def _need_secrets(planned: Plan, chosen: Organization | None) -> None:
    """Here the environment is the user's own, so a missing password is said before anything is asked."""
    secrets = _secrets(chosen)
    if missing := missing_secrets(planned, os.environ, secrets):
        only = "" if chosen is None else f" (in organization {shown(chosen)} only {secrets}... variables are read)"
        raise Refusal(
            f"The environment variables {', '.join(missing)} are not set{only}; the document references them for "
            "trunk passwords. Set them where the plan is made and applied."
        )


def _secrets(chosen: Organization | None) -> str:
    """The password variables a run may read: with several organizations configured, the chosen one's own."""
    return SECRET_PREFIX if chosen is None else organization_secrets(chosen.id)


def _called(settings: Settings, chosen: Organization | None) -> tuple[str, ...]:
    """The id and name of the organization a run acts in (choose_organization has checked the document's)."""
    acting = chosen if chosen is not None else next(iter(settings.organizations), None)
    return () if acting is None else (acting.id, acting.name)


async def _load(document: Path) -> DesiredState:
    """The document, validated (its organization decides which client plans it), off the event loop."""
    return await anyio.to_thread.run_sync(partial(load_document, _read(document), from_file=True))


def _read(document: Path) -> str:
    try:
        with document.open("rb") as file:
            data = file.read(FILE_MAX_BYTES + 1)
            check_size(max(len(data), os.fstat(file.fileno()).st_size), from_file=True)
        return data.decode("utf-8")
    except OSError as exc:
        raise Refusal(f"Cannot read {document}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise Refusal(f"{document} is not UTF-8 text; a desired-state document is YAML or JSON.") from None


def _yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)  # pyright: ignore[reportUnknownMemberType]


def _show(planned: Plan, *, as_json: bool, out: IO[str], hint: str, organization: Organization | None) -> None:
    """The plan; where several organizations are configured, headed by the one it changes."""
    if as_json:
        view = PlanView.of(planned, ttl_seconds=0, apply_hint=hint).model_dump(mode="json", exclude_none=True)
        view.pop("plan_id", None)
        view.pop("expires_in_seconds", None)
        if organization is not None:
            view = {"organization": {"id": organization.id, "name": organization.name}, **view}
        out.write(json.dumps(view, indent=2) + "\n")
        return
    if organization is not None:
        out.write(f"Organization {shown(organization)}:\n")
    out.write(planned.summary() + "\n")
    for line in [*planned.notes, *planned.impact]:
        out.write(f"  ! {line}\n")
    for step in planned.steps:
        out.write(f"  {step.n:>3}. {step.detail}\n")


def _report(report: ApplyReport, *, as_json: bool, out: IO[str]) -> None:
    if as_json:
        out.write(report.model_dump_json(indent=2, exclude_none=True) + "\n")
        return
    out.write(f"{report.done} done, {report.failed} failed, {report.not_started} not started.\n")
    if report.failure is not None:
        failure = report.failure
        out.write(f"  step {failure.n} ({failure.action} {failure.subject}) failed: {failure.cause}\n")
        out.write("  Run the same command again: it plans only what is still missing.\n")


def run(command: Callable[[], Awaitable[int]]) -> int:
    """Run a command, turning refusals and API failures into a message on stderr and exit code 1."""
    try:
        return anyio.run(command)
    except Refusal as exc:
        print(f"mcp-anyreach: {exc}", file=sys.stderr)
    except AnyreachError as exc:
        print(f"mcp-anyreach: {error_message(exc, retry_safe=False)}", file=sys.stderr)
    except AuditUnavailable as exc:
        print(f"mcp-anyreach: cannot append to the audit log {exc}; nothing was changed.", file=sys.stderr)
    return ExitCode.FAILURE
