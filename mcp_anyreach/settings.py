"""Configuration from the environment, overridden by command-line flags (passed in as init kwargs)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mcp_anyreach import DEFAULT_BASE_URL


def default_sandbox_db() -> Path:
    """The sandbox's SQLite file when no --db is given, shared by `mcp-anyreach sandbox` and the server."""
    import platformdirs

    path = platformdirs.user_data_path("mcp-anyreach") / "sandbox.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def parse_duration(value: object) -> object:
    """`24h`, `90m`, `30s`, `7d` (or anything pydantic reads as a timedelta: seconds, ISO 8601)."""
    if isinstance(value, str):
        value = value.strip()
        if value.isdigit():
            return timedelta(seconds=int(value))
        if value[-1:] in _UNITS and value[:-1].isdigit():
            return timedelta(**{_UNITS[value[-1]]: int(value[:-1])})
    return value


_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
Transport = Literal["stdio", "sse", "streamable-http"]
# Shared secrets: short ones are found offline from one token or one captured request.
MIN_SECRET = 32
PREFIX = "MCP_ANYREACH_"


class Organization(NamedTuple):
    """An organization the server acts in: its id (sent as X-Anyreach-Org) and the name people call it by."""

    id: str
    name: str

    @property
    def label(self) -> str:
        """How previews and results name it: `Acme (org_a)`, or the id alone when it has no other name."""
        return self.id if self.name == self.id else f"{self.name} ({self.id})"


ALL_ORGANIZATIONS = "all"
"""The `organization` of a read that answers for every organization at once (audit_inventory)."""


UNNAMED = Organization("", "default")
"""The one organization of a server whose ANYREACH_ORG_ID names none (an ak_ key's own): it names nothing."""


def parse_organizations(value: str | None) -> tuple[Organization, ...]:
    """`org_a=Acme, org_b` as organizations (no name given: the id is the name). Raises ValueError saying what
    to fix for an empty entry, or an id or name given twice (a name must pick exactly one organization)."""
    if value is None:
        return ()
    organizations: list[Organization] = []
    for entry in value.split(","):
        org_id, _, name = (part.strip() for part in entry.partition("="))
        if not org_id:
            raise ValueError(
                f"ANYREACH_ORG_ID has an entry without an organization id ({entry.strip()!r}): list them as "
                "org_id or org_id=Display name, separated by commas"
            )
        organizations.append(Organization(org_id, name or org_id))
    # A call names its organization exactly, so two names apart only in case would let a slip of the shift key act
    # in the other one; and "all" is what audit_inventory takes for every organization.
    named: dict[str, int] = {}
    for position, organization in enumerate(organizations):
        for key in {organization.id, organization.name}:
            if named.setdefault(key.casefold(), position) != position:
                raise ValueError(
                    f"ANYREACH_ORG_ID names {key} twice (as an id or a name, in any case): give each organization "
                    "its own id and name, so that either picks exactly one"
                )
            if len(organizations) > 1 and key.casefold() == ALL_ORGANIZATIONS:
                raise ValueError(
                    f"ANYREACH_ORG_ID: {key!r} names every organization to audit_inventory, so it cannot be one "
                    "organization's id or name: name that organization otherwise (org_id=Display name)"
                )
    return tuple(organizations)


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """Everything the server can be told. Secrets are `SecretStr` so no repr or log shows them."""

    # Flags arrive by field name (populate_by_name). The prefix keeps a bare TOKEN or PORT in the
    # environment from counting: unaliased lookups by field name only see MCP_ANYREACH_<NAME>.
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", env_prefix="MCP_ANYREACH_")

    token: SecretStr | None = Field(default=None, validation_alias=_env("ANYREACH_TOKEN"))
    org_id: str | None = Field(default=None, validation_alias=_env("ANYREACH_ORG_ID"))
    base_url: str = Field(default=DEFAULT_BASE_URL, validation_alias=_env("ANYREACH_BASE_URL"))
    managed_account_id: str | None = Field(default=None, validation_alias=_env("ANYREACH_MANAGED_ACCOUNT_ID"))
    sandbox: bool = Field(default=False, validation_alias=_env("MCP_ANYREACH_SANDBOX"))
    db: str | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_DB"))

    read_only: bool = Field(default=False, validation_alias=_env("MCP_ANYREACH_READ_ONLY"))
    toolsets: Annotated[list[str] | None, NoDecode] = Field(
        default=None, validation_alias=_env("MCP_ANYREACH_TOOLSETS")
    )
    tools: Annotated[list[str] | None, NoDecode] = Field(default=None, validation_alias=_env("MCP_ANYREACH_TOOLS"))
    no_confirm: bool = Field(default=False, validation_alias=_env("MCP_ANYREACH_NO_CONFIRM"))
    max_purchases: int = Field(default=5, ge=0, validation_alias=_env("MCP_ANYREACH_MAX_PURCHASES"))
    purchase_window: Annotated[timedelta, BeforeValidator(parse_duration)] = Field(
        default=timedelta(hours=24), gt=timedelta(0), validation_alias=_env("MCP_ANYREACH_PURCHASE_WINDOW")
    )
    confirm_secret: SecretStr | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_CONFIRM_SECRET"))
    confirm_ttl_seconds: int = Field(default=300, ge=1)
    token_store: Path | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_TOKEN_STORE"))
    audit_log: Path | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_AUDIT_LOG"))
    redis_url: SecretStr | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_REDIS_URL"))

    transport: Transport = Field(default="stdio", validation_alias=_env("MCP_ANYREACH_TRANSPORT"))
    host: str = Field(default="127.0.0.1", validation_alias=_env("MCP_ANYREACH_HOST"))
    # 0: the kernel picks a free port; the start-up line says which.
    port: int = Field(default=8000, ge=0, le=65535, validation_alias=_env("MCP_ANYREACH_PORT"))
    stateless: bool = Field(default=False, validation_alias=_env("MCP_ANYREACH_STATELESS"))
    allowed_hosts: Annotated[list[str] | None, NoDecode] = Field(
        default=None, validation_alias=_env("MCP_ANYREACH_ALLOWED_HOSTS")
    )
    allowed_origins: Annotated[list[str] | None, NoDecode] = Field(
        default=None, validation_alias=_env("MCP_ANYREACH_ALLOWED_ORIGINS")
    )
    http_token: SecretStr | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_HTTP_TOKEN"))
    oauth_issuer: str | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_OAUTH_ISSUER"))
    oauth_jwks_url: str | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_OAUTH_JWKS_URL"))
    resource_url: str | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_RESOURCE_URL"))
    oauth_read_scope: str = Field(default="anyreach:read", validation_alias=_env("MCP_ANYREACH_OAUTH_READ_SCOPE"))
    oauth_write_scope: str = Field(default="anyreach:write", validation_alias=_env("MCP_ANYREACH_OAUTH_WRITE_SCOPE"))
    max_sessions: int = Field(default=100, ge=1, validation_alias=_env("MCP_ANYREACH_MAX_SESSIONS"))
    session_idle_seconds: int = Field(default=300, ge=1, validation_alias=_env("MCP_ANYREACH_SESSION_IDLE_SECONDS"))

    @field_validator("http_token", "confirm_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET:
            raise ValueError(
                f"{PREFIX}{str(info.field_name).upper()} must be at least {MIN_SECRET} characters; make one with "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @model_validator(mode="after")
    def _secret_needs_a_shared_record(self) -> Settings:
        # A shared secret means another process may accept these tokens: without a shared record of used
        # ones, a token confirmed there (or here before a restart) could be replayed.
        if self.confirm_secret is not None and self.token_store is None and self.redis_url is None:
            raise ValueError(
                "MCP_ANYREACH_CONFIRM_SECRET is set, so every process that shares it must also share the record of "
                "used confirmation tokens: set MCP_ANYREACH_REDIS_URL (replicas on several machines) or "
                "MCP_ANYREACH_TOKEN_STORE (a SQLite file all of them can reach)."
            )
        return self

    @model_validator(mode="after")
    def _shared_state_needs_the_organization(self) -> Settings:
        # Shared state is kept per organization, and an API key (ak_...) does not tell the server which one.
        if (
            (self.redis_url is not None or self.token_store is not None)
            and not self.uses_sandbox
            and not self.organizations
        ):
            store = "MCP_ANYREACH_REDIS_URL" if self.redis_url is not None else "MCP_ANYREACH_TOKEN_STORE"
            raise ValueError(
                f"ANYREACH_ORG_ID is required with {store}: the purchase budget, used confirmation tokens and plans "
                "are shared per organization, whichever key each replica holds. Set ANYREACH_ORG_ID to the "
                "organization's id on every replica."
            )
        return self

    @model_validator(mode="after")
    def _organizations_are_clear(self) -> Settings:
        organizations = parse_organizations(self.org_id)
        # An organization API key acts in the one organization it was made in, whatever the header says.
        token = self.token.get_secret_value() if self.token is not None and not self.uses_sandbox else ""
        if len(organizations) > 1 and token.startswith("ak_"):
            raise ValueError(
                f"ANYREACH_ORG_ID names {len(organizations)} organizations, but ANYREACH_TOKEN is an organization "
                "API key (ak_...), which acts only in the organization it was made in. Use a personal access "
                "token (pat_...) of a user in every one of them, or name one organization."
            )
        if len(organizations) > 1 and self.managed_account_id is not None:
            raise ValueError(
                "ANYREACH_MANAGED_ACCOUNT_ID names one organization's managed account, but ANYREACH_ORG_ID names "
                "several: unset it, and each organization's managed account is found by itself."
            )
        return self

    @property
    def organizations(self) -> tuple[Organization, ...]:
        """The organizations ANYREACH_ORG_ID names, in its order; none when it is unset (an ak_ key's own)."""
        return parse_organizations(self.org_id)

    @property
    def organization_id(self) -> str | None:
        """The organization's id when exactly one is named, else None (none named, or several)."""
        organizations = self.organizations
        return organizations[0].id if len(organizations) == 1 else None

    @field_validator("token", "org_id", "managed_account_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # An installer (an MCP bundle's optional field, say) may pass an empty string for "not given".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("toolsets", "tools", "allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def uses_sandbox(self) -> bool:
        """No credential (or `--sandbox`) means the embedded sandbox serves the API in-process."""
        return self.sandbox or self.token is None


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """`MCP_ANYREACH_*` variables no setting reads, each with a did-you-mean when one is close.

    A misspelt `MCP_ANYREACH_READONLY` would otherwise start a server with every write tool.
    """
    import difflib

    known = [name for name in _variable_names() if name.startswith(PREFIX)]
    problems: list[str] = []
    for name in sorted(environ):
        if name.startswith(PREFIX) and name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
            problems.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return problems


def _variable_names() -> list[str]:
    names: list[str] = []
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names += [choice for choice in alias.choices if isinstance(choice, str)]
        else:
            names.append(f"{PREFIX}{field_name.upper()}")
    return names
