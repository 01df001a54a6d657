"""Configuration from the environment, overridden by command-line flags (passed in as init kwargs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mcp_anyreach import DEFAULT_BASE_URL


def default_sandbox_db() -> Path:
    """The sandbox's SQLite file when no --db is given, shared by `mcp-anyreach sandbox` and the server."""
    import platformdirs

    path = platformdirs.user_data_path("mcp-anyreach") / "sandbox.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


Transport = Literal["stdio", "sse", "streamable-http"]


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
    confirm_secret: SecretStr | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_CONFIRM_SECRET"))
    confirm_ttl_seconds: int = Field(default=300, ge=1)
    token_store: Path | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_TOKEN_STORE"))
    audit_log: Path | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_AUDIT_LOG"))

    transport: Transport = Field(default="stdio", validation_alias=_env("MCP_ANYREACH_TRANSPORT"))
    host: str = Field(default="127.0.0.1", validation_alias=_env("MCP_ANYREACH_HOST"))
    port: int = Field(default=8000, ge=1, le=65535, validation_alias=_env("MCP_ANYREACH_PORT"))
    stateless: bool = Field(default=False, validation_alias=_env("MCP_ANYREACH_STATELESS"))
    allowed_hosts: Annotated[list[str] | None, NoDecode] = Field(
        default=None, validation_alias=_env("MCP_ANYREACH_ALLOWED_HOSTS")
    )
    allowed_origins: Annotated[list[str] | None, NoDecode] = Field(
        default=None, validation_alias=_env("MCP_ANYREACH_ALLOWED_ORIGINS")
    )
    http_token: SecretStr | None = Field(default=None, validation_alias=_env("MCP_ANYREACH_HTTP_TOKEN"))

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
