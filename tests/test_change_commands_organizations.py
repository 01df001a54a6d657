"""`mcp-anyreach export | plan | apply` with several organizations: subprocesses on a sandbox file whose demo user
belongs to both demo organizations, each run acting in the one it chose and never in a default."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mcp_anyreach.changes.desired import desired_state_schema
from mcp_anyreach.sandbox import open_sandbox
from tests.test_change_commands import cli

DEMO_NAME = "Demo Telephony Co"


@dataclass(frozen=True)
class TwoOrganizations:
    db: str
    demo: str
    other: str

    @property
    def env(self) -> dict[str, str]:
        """Both demo organizations, the first with a display name: the embedded sandbox acts as its demo user."""
        return {"ANYREACH_ORG_ID": f"{self.demo}={DEMO_NAME}, {self.other}"}


@pytest.fixture
def orgs(tmp_path: Path) -> TwoOrganizations:
    db = str(tmp_path / "sandbox.db")
    seed = open_sandbox(db).seed
    return TwoOrganizations(db, seed.demo.org_id, seed.other.org_id)


def phones(document: str) -> set[str]:
    return {item["phone_number"] for item in yaml.safe_load(document)["numbers"]["items"]}


async def test_with_two_organizations_and_none_chosen_each_command_exits_1_listing_them_and_how_to_choose(
    orgs: TwoOrganizations, tmp_path: Path
) -> None:
    document = tmp_path / "unnamed.yaml"
    document.write_text("numbers: {items: []}\n")

    runs = [
        await cli("export", "--db", orgs.db, **orgs.env),
        await cli("plan", str(document), "--db", orgs.db, **orgs.env),
        await cli("apply", str(document), "--db", orgs.db, "--auto-approve", **orgs.env),
    ]

    for run in runs:
        assert run.returncode == 1
        assert run.stdout == ""
        assert f"names 2 organizations ({DEMO_NAME} ({orgs.demo}), {orgs.other})" in run.stderr
        assert "--organization" in run.stderr
        assert "organization: ORG" in run.stderr


async def test_export_names_the_chosen_organization_and_holds_only_its_numbers(
    orgs: TwoOrganizations, tmp_path: Path
) -> None:
    by_name = await cli("export", "--db", orgs.db, "--organization", DEMO_NAME, **orgs.env)
    by_id = await cli("export", "--db", orgs.db, "--organization", orgs.other, "--json", **orgs.env)

    assert by_name.returncode == by_id.returncode == 0, by_name.stderr + by_id.stderr
    assert list(yaml.safe_load(by_name.stdout))[:2] == ["version", "organization"]
    assert yaml.safe_load(by_name.stdout)["organization"] == orgs.demo
    assert json.loads(by_id.stdout)["organization"] == orgs.other
    assert phones(by_name.stdout) >= {"+14155550101", "+12125550131"}
    assert phones(by_id.stdout) >= {"+16175550111", "+12065550121"}
    assert not phones(by_name.stdout) & phones(by_id.stdout)


async def test_a_document_naming_its_organization_plans_there_without_being_told_again(
    orgs: TwoOrganizations, tmp_path: Path
) -> None:
    document = tmp_path / "other.yaml"
    exported = await cli("export", "--db", orgs.db, "--organization", orgs.other, "--output", str(document), **orgs.env)

    planned = await cli("plan", str(document), "--db", orgs.db, **orgs.env)
    as_json = await cli("plan", str(document), "--db", orgs.db, "--json", **orgs.env)

    assert exported.returncode == 0, exported.stderr
    assert (planned.returncode, planned.stdout.splitlines()) == (
        0,
        [f"Organization {orgs.other}:", "Nothing to do: the account already matches."],
    )
    assert json.loads(as_json.stdout)["organization"] == {"id": orgs.other, "name": orgs.other}


async def test_a_document_for_one_organization_run_with_the_other_chosen_is_refused_and_changes_nothing(
    orgs: TwoOrganizations, tmp_path: Path
) -> None:
    document, log = tmp_path / "demo.yaml", tmp_path / "audit.jsonl"
    assert (
        await cli("export", "--db", orgs.db, "--organization", orgs.demo, "--output", str(document), **orgs.env)
    ).returncode == 0
    wanted = yaml.safe_load(document.read_text())
    for item in wanted["numbers"]["items"]:
        item["outbound_shareable"] = True
    document.write_text(json.dumps(wanted))

    crossed = await cli(
        "apply", str(document), "--db", orgs.db, "--auto-approve", "--audit-log", str(log),
        "--organization", orgs.other, **orgs.env,
    )  # fmt: skip
    still_pending = await cli("plan", str(document), "--db", orgs.db, "--organization", DEMO_NAME, **orgs.env)

    assert crossed.returncode == 1
    assert f"The document is for organization {DEMO_NAME} ({orgs.demo}), but --organization chose {orgs.other}" in (
        crossed.stderr
    )
    assert f"--organization {orgs.demo}" in crossed.stderr
    assert crossed.stdout == ""
    assert still_pending.returncode == 2, "the document's organization was not changed"
    assert not log.exists() or not log.read_text().strip()


async def test_apply_changes_only_the_chosen_organization_and_its_audit_lines_name_it(
    orgs: TwoOrganizations, tmp_path: Path
) -> None:
    document, log = tmp_path / "other.yaml", tmp_path / "audit.jsonl"
    assert (
        await cli("export", "--db", orgs.db, "--organization", orgs.other, "--output", str(document), **orgs.env)
    ).returncode == 0
    demo_before = await cli("export", "--db", orgs.db, "--organization", orgs.demo, **orgs.env)
    wanted = yaml.safe_load(document.read_text())
    wanted["numbers"]["items"] = [dict(item, outbound_shareable=True) for item in wanted["numbers"]["items"]]
    document.write_text(json.dumps(wanted))

    applied = await cli("apply", str(document), "--db", orgs.db, "--auto-approve", "--audit-log", str(log), **orgs.env)
    demo_after = await cli("export", "--db", orgs.db, "--organization", orgs.demo, **orgs.env)
    settled = await cli("plan", str(document), "--db", orgs.db, **orgs.env)

    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.startswith(f"Organization {orgs.other}:\n")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines, "the steps were audited"
    assert {line["organization"] for line in lines} == {orgs.other}
    assert {line["arguments"]["phone_number"] for line in lines} <= phones(document.read_text())
    assert settled.returncode == 0
    assert demo_after.stdout == demo_before.stdout, "the other organization was not touched"


async def test_an_organization_that_is_not_configured_is_refused_naming_the_configured_ones(
    orgs: TwoOrganizations, tmp_path: Path
) -> None:
    document = tmp_path / "elsewhere.yaml"
    document.write_text("organization: org_nobody_configured\nnumbers: {items: []}\n")
    only_demo = {"ANYREACH_ORG_ID": orgs.demo}

    unknown_option = await cli("export", "--db", orgs.db, "--organization", "Acme", **orgs.env)
    unknown_in_document = await cli("plan", str(document), "--db", orgs.db, **orgs.env)
    not_the_one = await cli("plan", str(document), "--db", orgs.db, **only_demo)
    not_named = await cli("plan", str(document), "--db", orgs.db)

    assert unknown_option.returncode == unknown_in_document.returncode == 1
    assert "--organization names 'Acme'" in unknown_option.stderr
    assert "the document's organization: names 'org_nobody_configured'" in unknown_in_document.stderr
    for run in (unknown_option, unknown_in_document):
        assert f"{DEMO_NAME} ({orgs.demo}), {orgs.other}" in run.stderr
    assert not_the_one.returncode == 1
    assert f"it names {orgs.demo}" in not_the_one.stderr
    assert not_named.returncode == 1
    assert "ANYREACH_ORG_ID is not set" in not_named.stderr


async def test_with_one_organization_export_writes_no_organization_and_its_documents_need_no_choice(
    orgs: TwoOrganizations, tmp_path: Path
) -> None:
    document = tmp_path / "account.yaml"
    one = {"ANYREACH_ORG_ID": orgs.demo}

    unset = await cli("export", "--db", orgs.db)
    configured = await cli("export", "--db", orgs.db, "--output", str(document), **one)
    planned = await cli("plan", str(document), "--db", orgs.db, **one)
    named = tmp_path / "named.yaml"
    named.write_text(f"organization: {orgs.demo}\n" + document.read_text())
    planned_named = await cli("plan", str(named), "--db", orgs.db, "--organization", orgs.demo, **one)

    assert unset.returncode == configured.returncode == 0
    assert "organization" not in yaml.safe_load(unset.stdout)
    assert document.read_text() == unset.stdout
    assert (planned.returncode, planned.stdout.strip()) == (0, "Nothing to do: the account already matches.")
    assert (planned_named.returncode, planned_named.stdout.strip()) == (
        0,
        "Nothing to do: the account already matches.",
    )


def test_the_published_document_schema_shows_organization_only_where_several_are_configured() -> None:
    assert list(desired_state_schema()["properties"]) == ["version", "trunks", "numbers", "routing"]
    assert "organization" in desired_state_schema(several_organizations=True)["properties"]


async def test_one_organization_on_the_embedded_sandbox_says_its_id_is_ignored_and_acts_in_the_demo_one(
    orgs: TwoOrganizations,
) -> None:
    run = await cli("export", "--db", orgs.db, ANYREACH_ORG_ID=orgs.other)

    assert run.returncode == 0, run.stderr
    assert f"ANYREACH_ORG_ID={orgs.other} is ignored on the embedded sandbox" in run.stderr
    assert "+14155550101" in phones(run.stdout), "the demo organization's numbers"


async def test_a_run_reads_only_the_chosen_organizations_sip_password_variables(
    orgs: TwoOrganizations, tmp_path: Path
) -> None:
    demo_secret = f"ANYREACH_SIP_{orgs.demo.upper()}_CARRIER"
    document = tmp_path / "carrier.yaml"
    document.write_text(
        "trunks:\n  items:\n    - name: Carrier\n      outbound:\n        address: sip.carrier.example:5061\n"
        f"        auth_username: carrier-out\n        auth_password: {{env: {demo_secret}}}\n"
    )
    env = {**orgs.env, demo_secret: "demo-only-password"}

    run = await cli("apply", str(document), "--db", orgs.db, "--organization", orgs.other, "--auto-approve", **env)

    assert run.returncode == 1
    assert f"only ANYREACH_SIP_{orgs.other.upper()}_... variables are read" in run.stderr
    assert "demo-only-password" not in run.stdout + run.stderr
