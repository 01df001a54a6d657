"""`mcp-anyreach apply` says how to undo what it did: the undo id, and the inverse as a document to keep, which
`plan` and `apply` take back. Subprocesses on a sandbox file, as a pipeline runs them; no password is printed."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.test_change_commands import cli

IN_SECRET = "pbx-in-Rw73qa"
OUT_SECRET = "pbx-out-Lp58xz"
PASSWORDS = {"ANYREACH_SIP_IN": IN_SECRET, "ANYREACH_SIP_OUT": OUT_SECRET}
TRUNK_VARIABLES = {
    "ANYREACH_SIP_DEMO_TELEPHONY_CO_PBX_BYOC_INBOUND": IN_SECRET,
    "ANYREACH_SIP_DEMO_TELEPHONY_CO_PBX_BYOC_OUTBOUND": OUT_SECRET,
}


async def test_apply_prints_the_undo_id_and_an_inverse_document_that_plan_and_apply_take_back(tmp_path: Path) -> None:
    db, exported, wanted = str(tmp_path / "sandbox.db"), tmp_path / "account.yaml", tmp_path / "wanted.json"
    log = tmp_path / "audit.jsonl"
    assert (await cli("export", "--db", db, "--output", str(exported))).returncode == 0
    document = yaml.safe_load(exported.read_text())
    for item in document["numbers"]["items"]:
        item["outbound_shareable"] = True
    trunk = next(item for item in document["trunks"]["items"] if not item.get("managed"))
    trunk["outbound"]["transport"] = "UDP"
    trunk["inbound"]["auth_password"] = {"env": "ANYREACH_SIP_IN"}
    trunk["outbound"]["auth_password"] = {"env": "ANYREACH_SIP_OUT"}
    wanted.write_text(json.dumps(document))

    applied = await cli("apply", str(wanted), "--db", db, "--auto-approve", "--audit-log", str(log), **PASSWORDS)
    undo_file = tmp_path / "undo.yaml"
    undo_file.write_text(applied.stdout[applied.stdout.index("# The undo of") :])
    unset = await cli("plan", str(undo_file), "--db", db)
    pending = await cli("plan", str(undo_file), "--db", db, **TRUNK_VARIABLES)
    undone = await cli("apply", str(undo_file), "--db", db, "--auto-approve", **TRUNK_VARIABLES)
    settled = await cli("plan", str(exported), "--db", db)

    assert applied.returncode == 0, applied.stderr
    assert "Undo id und_" in applied.stdout
    assert "kept only while this command ran" in applied.stdout
    assert "then run `mcp-anyreach plan undo.yaml` and `mcp-anyreach apply undo.yaml`" in applied.stdout
    assert "# Set ANYREACH_SIP_DEMO_TELEPHONY_CO_PBX_BYOC_OUTBOUND to the outbound SIP password" in applied.stdout
    inverse = yaml.safe_load(undo_file.read_text())
    assert {item["outbound_shareable"] for item in inverse["numbers"]["items"]} == {False}  # only what changed
    assert inverse["trunks"]["items"][0]["outbound"]["transport"] == "TLS"
    # What it printed is a plan like any other: it names the passwords it needs, then takes everything back.
    assert unset.returncode == 1
    assert "ANYREACH_SIP_DEMO_TELEPHONY_CO_PBX_BYOC_INBOUND" in unset.stderr
    assert pending.returncode == 2, pending.stderr
    assert undone.returncode == 0, undone.stderr
    assert (settled.returncode, settled.stdout.strip()) == (0, "Nothing to do: the account already matches.")
    for secret in (IN_SECRET, OUT_SECRET):
        for text in (applied.stdout, applied.stderr, undo_file.read_text(), log.read_text(), undone.stdout):
            assert secret not in text


async def test_apply_with_a_token_store_keeps_the_record_seven_days_for_the_mcp_server(tmp_path: Path) -> None:
    db, document = str(tmp_path / "sandbox.db"), tmp_path / "account.json"
    assert (await cli("export", "--db", db, "--output", str(document))).returncode == 0
    wanted = json.loads(document.read_text())
    wanted["numbers"]["items"][1]["outbound_shareable"] = True
    document.write_text(json.dumps(wanted))
    store = str(tmp_path / "state.db")

    applied = await cli("apply", str(document), "--db", db, "--auto-approve", "--json", MCP_ANYREACH_TOKEN_STORE=store)

    assert applied.returncode == 0, applied.stderr
    *_, report, undo = (json.loads(part) for part in _json_objects(applied.stdout))
    assert report["undo_id"] == undo["undo_id"]
    assert report["undo"].startswith(f"Undo id {undo['undo_id']}, kept 7 days")
    assert undo["undo_document"]["numbers"]["items"][0]["outbound_shareable"] is False


def _json_objects(text: str) -> list[str]:
    decoder, at = json.JSONDecoder(), 0
    found: list[str] = []
    while at < len(text.rstrip()):
        value, end = decoder.raw_decode(text, at)
        found.append(json.dumps(value))
        at = end + (len(text[end:]) - len(text[end:].lstrip()))
    return found
