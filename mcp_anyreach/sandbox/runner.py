"""Opening a sandbox in-process, and serving one on a port for the CLI."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from mcp_anyreach.sandbox.app import create_app
from mcp_anyreach.sandbox.behaviour import Behaviour
from mcp_anyreach.sandbox.faults import Faults, QuietDrops
from mcp_anyreach.sandbox.seed import DemoOrg, DemoSeed, DemoUser, load_or_create_seed
from mcp_anyreach.sandbox.store import SandboxStore
from mcp_anyreach.settings import default_sandbox_db


@dataclass(frozen=True)
class Sandbox:
    store: SandboxStore
    app: FastAPI
    seed: DemoSeed


def open_sandbox(
    db: str | Path = ":memory:",
    *,
    number_limit: int = 100,
    faults: Faults | None = None,
    behaviour: Behaviour | str | None = None,
) -> Sandbox:
    """A seeded sandbox; `behaviour` is a `Behaviour` or its spec for `Behaviour.parse` (ValueError when wrong)."""
    answers = Behaviour.parse(behaviour) if isinstance(behaviour, str) else behaviour
    store = SandboxStore(db)
    seed = load_or_create_seed(store)
    app = create_app(store, number_limit=number_limit, faults=faults, behaviour=answers)
    return Sandbox(store=store, app=app, seed=seed)


def _org_banner(base_url: str, org: DemoOrg) -> list[str]:
    return [
        f"{org.name}",
        f"  organization id       {org.org_id}",
        f"  API key (all scopes)  {org.api_key}",
        f"  read-only API key     {org.read_only_key}",
        f"  personal token        {org.pat}   (send X-Anyreach-Org: {org.org_id})",
        f"  managed account       {org.managed_account_id}",
        f"  export ANYREACH_BASE_URL={base_url} ANYREACH_TOKEN={org.api_key} ANYREACH_ORG_ID={org.org_id}",
    ]


def _user_banner(user: DemoUser) -> list[str]:
    return [
        f"{user.name}, a member of both organizations",
        f"  personal token        {user.pat}   (send X-Anyreach-Org: {' or '.join(user.organization_ids)})",
    ]


def banner(base_url: str, seed: DemoSeed, db: str) -> str:
    curl = (
        f'curl "{base_url}/core/phone-numbers?limit=50" \\\n'
        '  -H "Authorization: Bearer $ANYREACH_TOKEN" \\\n'
        '  -H "X-Anyreach-Org: $ANYREACH_ORG_ID"'
    )
    lines = [f"Anyreach sandbox listening on {base_url}", f"Database {db}", ""]
    lines += [*_org_banner(base_url, seed.demo), "", *_org_banner(base_url, seed.other), ""]
    lines += [*_user_banner(seed.user), "", curl, ""]
    return "\n".join(lines)


def serve(
    host: str = "127.0.0.1",
    port: int = 8787,
    db: str | None = None,
    faults: str | Faults | None = None,
    behaviour: str | Behaviour | None = None,
) -> None:
    """Serve until interrupted; `faults` and `behaviour` are objects or their specs (ValueError when wrong).

    The banner goes to stderr once the port accepts connections, with the URL actually bound (port 0 picks one).
    """
    import uvicorn

    from mcp_anyreach.listening import AnnouncingServer

    injected = Faults.parse(faults) if isinstance(faults, str) else faults
    answers = Behaviour.parse(behaviour) if isinstance(behaviour, str) else behaviour
    db_path = str(db if db is not None else default_sandbox_db())
    sandbox = open_sandbox(db_path, faults=injected, behaviour=answers)
    if injected is not None:
        logging.getLogger("uvicorn.error").addFilter(QuietDrops())

    def announce(base_url: str) -> None:
        print(banner(base_url, sandbox.seed, db_path), file=sys.stderr, flush=True)
        if injected is not None:
            print(f"Injecting faults: {injected}", file=sys.stderr, flush=True)
        if answers is not None and answers != Behaviour():
            print(f"Answering as: {answers}", file=sys.stderr, flush=True)

    config = uvicorn.Config(sandbox.app, host=host, port=port, log_level="warning")
    AnnouncingServer(config, announce).run()
