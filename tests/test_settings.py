"""Configuration: documented variables count, flags win over them, and stray variables do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from mcp_anyreach.server.http.transports import check_exposure
from mcp_anyreach.settings import Settings


def test_only_the_documented_variables_configure_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    for stray in ("TOKEN", "ORG_ID", "PORT", "HOST", "READ_ONLY"):
        monkeypatch.setenv(stray, "1")
    monkeypatch.setenv("ANYREACH_ORG_ID", "org_documented")
    monkeypatch.setenv("MCP_ANYREACH_PORT", "8123")
    settings = Settings()
    assert settings.token is None
    assert settings.uses_sandbox
    assert settings.org_id == "org_documented"
    assert (settings.host, settings.port, settings.read_only) == ("127.0.0.1", 8123, False)


def test_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_ANYREACH_TOOLSETS", "numbers")
    monkeypatch.setenv("MCP_ANYREACH_READ_ONLY", "0")
    settings = Settings(toolsets="trunks,routing", read_only=True)
    assert settings.toolsets == ["trunks", "routing"]
    assert settings.read_only


def test_the_token_never_shows_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYREACH_TOKEN", "ak_canary_5e1f")
    settings = Settings()
    assert not settings.uses_sandbox
    assert "ak_canary_5e1f" not in repr(settings) + str(settings) + settings.model_dump_json()


def test_replicas_without_a_shared_token_store_are_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="MCP_ANYREACH_TOKEN_STORE"):
        Settings(
            transport="streamable-http", stateless=True, confirm_secret="replicas-share-this-secret-0123456789abcdef"
        )
    check_exposure(
        Settings(
            transport="streamable-http",
            stateless=True,
            confirm_secret="replicas-share-this-secret-0123456789abcdef",
            token_store="t.db",
        )
    )


@pytest.mark.parametrize(("given", "seconds"), [("24h", 86400), ("90m", 5400), ("7d", 604800), ("3600", 3600)])
def test_the_purchase_window_reads_days_hours_minutes_or_seconds(given: str, seconds: int) -> None:
    assert Settings(purchase_window=given).purchase_window.total_seconds() == seconds


def test_a_purchase_window_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="purchase_window"):
        Settings(purchase_window="0h")


def test_replicas_sharing_redis_start_without_a_token_store() -> None:
    replica = Settings(
        transport="streamable-http",
        stateless=True,
        confirm_secret="replicas-share-this-secret-0123456789abcdef",
        redis_url="redis://r:6379",
    )
    check_exposure(replica)


def test_the_redis_url_never_shows_in_the_settings_repr() -> None:
    settings = Settings(redis_url="redis://:hunter2-canary@redis.internal:6379/0")
    assert "hunter2-canary" not in repr(settings) + str(settings) + settings.model_dump_json()


def test_a_confirmation_secret_shorter_than_32_characters_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="MCP_ANYREACH_CONFIRM_SECRET must be at least 32 characters"):
        Settings(confirm_secret="x" * 31, token_store=tmp_path / "t.db")
    assert Settings(confirm_secret="x" * 32, token_store=tmp_path / "t.db").confirm_secret is not None


def test_several_organizations_are_read_in_order_with_their_display_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYREACH_TOKEN", "pat_person")
    monkeypatch.setenv("ANYREACH_ORG_ID", "org_a=Acme Dental, org_b")
    settings = Settings()
    assert [(org.id, org.name) for org in settings.organizations] == [("org_a", "Acme Dental"), ("org_b", "org_b")]
    assert settings.organization_id is None  # several: no single one for code that expects it


def test_one_named_organization_is_still_the_one_organization(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYREACH_TOKEN", "pat_person")
    monkeypatch.setenv("ANYREACH_ORG_ID", "org_a=Acme Dental")
    assert Settings().organization_id == "org_a"


def test_several_organizations_with_an_organization_key_are_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANYREACH_TOKEN", "ak_bound_to_one")
    monkeypatch.setenv("ANYREACH_ORG_ID", "org_a,org_b")
    with pytest.raises(ValidationError, match=r"API key \(ak_\.\.\.\), which acts only in the organization"):
        Settings()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("org_a,org_a", "names org_a twice"),
        ("org_a=Acme,org_b=Acme", "names Acme twice"),
        ("org_a=org_b,org_b", "names org_b twice"),
        ("org_a=Acme,org_b=ACME", "names ACME twice"),
        ("org_a=Acme,ORG_A", "names ORG_A twice"),
        ("org_a=All,org_b", "'All' names every organization to audit_inventory"),
        ("org_a,,org_b", "an entry without an organization id"),
        ("=Acme", "an entry without an organization id"),
    ],
)
def test_an_organization_list_that_would_not_pick_exactly_one_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str, why: str
) -> None:
    monkeypatch.setenv("ANYREACH_TOKEN", "pat_person")
    monkeypatch.setenv("ANYREACH_ORG_ID", value)
    with pytest.raises(ValidationError, match=why):
        Settings()


def test_one_managed_account_for_several_organizations_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYREACH_TOKEN", "pat_person")
    monkeypatch.setenv("ANYREACH_ORG_ID", "org_a,org_b")
    monkeypatch.setenv("ANYREACH_MANAGED_ACCOUNT_ID", "ma_1")
    with pytest.raises(ValidationError, match="each organization's managed account is found by itself"):
        Settings()
