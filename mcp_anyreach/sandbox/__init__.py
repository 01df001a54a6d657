"""An Anyreach-compatible telephony API on local SQLite: storage, FastAPI app, demo seed and runner."""

from __future__ import annotations

from mcp_anyreach.sandbox.app import create_app
from mcp_anyreach.sandbox.behaviour import Behaviour, behaviour_argument
from mcp_anyreach.sandbox.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RuleViolation,
    SandboxError,
    Unauthorized,
)
from mcp_anyreach.sandbox.faults import Faults, faults_argument
from mcp_anyreach.sandbox.runner import Sandbox, open_sandbox, serve
from mcp_anyreach.sandbox.seed import DemoOrg, DemoSeed, DemoUser
from mcp_anyreach.sandbox.store import SandboxStore

__all__ = [
    "Behaviour",
    "Conflict",
    "DemoOrg",
    "DemoSeed",
    "DemoUser",
    "Faults",
    "Forbidden",
    "Invalid",
    "NotFound",
    "RuleViolation",
    "Sandbox",
    "SandboxError",
    "SandboxStore",
    "Unauthorized",
    "behaviour_argument",
    "create_app",
    "faults_argument",
    "open_sandbox",
    "serve",
]
