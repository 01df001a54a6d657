"""SIP trunks. Passwords are stored here and only here; records carry them as SecretStr."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from mcp_anyreach.sandbox.errors import Conflict, Invalid, NotFound, RuleViolation
from mcp_anyreach.sandbox.schemas import InboundConfig, OutboundConfig, TrunkCreate, TrunkUpdate
from mcp_anyreach.sandbox.store.db import Database, new_uuid
from mcp_anyreach.sandbox.store.paging import ListFilter, Page, Where, select_page

ConfigT = TypeVar("ConfigT", InboundConfig, OutboundConfig)


@dataclass(frozen=True)
class TrunkRecord:
    id: str
    name: str
    managed_account_id: str | None
    inbound_config: InboundConfig | None
    outbound_config: OutboundConfig | None
    organization_id: str
    created_at: str
    updated_at: str


def _dump(config: InboundConfig | OutboundConfig | None) -> str | None:
    if config is None:
        return None
    data = config.model_dump(mode="json", exclude={"auth_password"})
    data["auth_password"] = config.auth_password.get_secret_value() if config.auth_password else None
    return json.dumps(data)


def _load(model: type[ConfigT], text: str | None) -> ConfigT | None:
    return None if text is None else model.model_validate_json(text)


def _record(row: sqlite3.Row) -> TrunkRecord:
    return TrunkRecord(
        id=row["id"],
        name=row["name"],
        managed_account_id=row["managed_account_id"],
        inbound_config=_load(InboundConfig, row["inbound_config"]),
        outbound_config=_load(OutboundConfig, row["outbound_config"]),
        organization_id=row["org_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _keep_password(new: ConfigT | None, old: ConfigT | None, field: str) -> ConfigT | None:
    """A config without a password keeps the stored one while the username is unchanged."""
    if new is None or new.auth_username is None or new.auth_password is not None:
        return new
    if old is not None and old.auth_username == new.auth_username and old.auth_password is not None:
        return new.model_copy(update={"auth_password": old.auth_password})
    raise Invalid((field, "auth_password"), f"{field} has auth_username but no auth_password; give both")


def _with_password(new: ConfigT | None, field: str) -> ConfigT | None:
    """A replacing PUT keeps nothing, so a config with auth_username must carry its password."""
    if new is not None and new.auth_username is not None and new.auth_password is None:
        raise Invalid(
            (field, "auth_password"),
            f"{field} has auth_username but no auth_password; PUT replaces the whole trunk, so give the password again",
        )
    return new


def _changed(body: BaseModel, field: str) -> bool:
    return field in body.model_fields_set


class Trunks:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self, org_id: str, page: ListFilter, name: str | None = None) -> Page[TrunkRecord]:
        where = Where()
        where.add("org_id = ?", org_id)
        if name:
            where.add("instr(lower(name), lower(?)) > 0", name)
        where.add_time_window(page)
        return select_page(self._db, "trunks", where, page, _record)

    def get(self, org_id: str, trunk_id: str) -> TrunkRecord:
        row = self._db.query_one("SELECT * FROM trunks WHERE id = ? AND org_id = ?", (trunk_id, org_id))
        if row is None:
            raise NotFound(f"Trunk {trunk_id} not found in this organization")
        return _record(row)

    def create(self, org_id: str, body: TrunkCreate) -> TrunkRecord:
        inbound = _keep_password(body.inbound_config, None, "inbound_config")
        outbound = _keep_password(body.outbound_config, None, "outbound_config")
        trunk_id = new_uuid()
        with self._db.transaction() as tx:
            insert(tx, trunk_id, org_id, body.name, None, self._db.now(), _dump(inbound), _dump(outbound))
        return self.get(org_id, trunk_id)

    def update(self, org_id: str, trunk_id: str, body: TrunkUpdate, *, replace: bool = False) -> TrunkRecord:
        """Merge `body` into the trunk; with `replace`, the body is the whole trunk (left out means removed)."""
        current = self._editable(org_id, trunk_id, "updated")
        inbound, outbound = current.inbound_config, current.outbound_config
        if replace:
            if body.name is None:
                raise Invalid(("name",), "name is required: PUT replaces the whole trunk")
            inbound = _with_password(body.inbound_config, "inbound_config")
            outbound = _with_password(body.outbound_config, "outbound_config")
        if not replace and _changed(body, "inbound_config"):
            inbound = _keep_password(body.inbound_config, inbound, "inbound_config")
        if not replace and _changed(body, "outbound_config"):
            outbound = _keep_password(body.outbound_config, outbound, "outbound_config")
        name = body.name if body.name is not None else current.name
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE trunks SET name = ?, inbound_config = ?, outbound_config = ?, updated_at = ? WHERE id = ?",
                (name, _dump(inbound), _dump(outbound), self._db.now(), trunk_id),
            )
        return self.get(org_id, trunk_id)

    def delete(self, org_id: str, trunk_id: str) -> None:
        self._editable(org_id, trunk_id, "deleted")
        with self._db.transaction() as tx:
            (count,) = tx.execute("SELECT count(*) FROM phone_numbers WHERE trunk_id = ?", (trunk_id,)).fetchone()
            if count:
                raise Conflict(f"Trunk {trunk_id} has {count} numbers; delete or move them first")
            tx.execute("DELETE FROM trunks WHERE id = ?", (trunk_id,))

    def _editable(self, org_id: str, trunk_id: str, verb: str) -> TrunkRecord:
        current = self.get(org_id, trunk_id)
        if current.managed_account_id is not None:
            raise RuleViolation(
                f"Trunk {trunk_id} is managed; managed trunks cannot be {verb} through the API "
                "(they belong to numbers bought through a managed account)"
            )
        return current


def insert(
    tx: sqlite3.Connection,
    trunk_id: str,
    org_id: str,
    name: str,
    managed_account_id: str | None,
    now: str,
    inbound_json: str | None = None,
    outbound_json: str | None = None,
) -> None:
    tx.execute(
        "INSERT INTO trunks (id, org_id, name, managed_account_id, inbound_config, outbound_config,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (trunk_id, org_id, name, managed_account_id, inbound_json, outbound_json, now, now),
    )
