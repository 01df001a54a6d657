"""Domain errors raised by the sandbox store and auth; the app maps each kind to one HTTP status.

SandboxError            base; ``status`` and a ``detail`` sentence
├── Unauthorized        401  token missing, unknown, or a pat_ without X-Anyreach-Org
├── Forbidden           403  the token lacks the scope the operation needs, or X-Anyreach-Org names an
│                            organization it may not act in
├── NotFound            404  absent, or owned by another organization
├── Conflict            409  already exists, or still in use
├── RuleViolation       400  a business rule refuses the operation (managed trunk, number limit, bad cursor)
├── Invalid             422  a value that passed parsing but is inconsistent (reported like FastAPI's own 422)
└── StorageLost         503  the database file was removed or replaced under the running sandbox
"""

from __future__ import annotations


class SandboxError(Exception):
    status = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthorized(SandboxError):
    status = 401


class Forbidden(SandboxError):
    status = 403


class NotFound(SandboxError):
    status = 404


class Conflict(SandboxError):
    status = 409


class RuleViolation(SandboxError):
    status = 400


class Invalid(SandboxError):
    status = 422

    def __init__(self, field: tuple[str, ...], detail: str) -> None:
        super().__init__(detail)
        self.field = field


class StorageLost(SandboxError):
    status = 503
