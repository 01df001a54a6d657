"""The organization's single inbound routing config."""

from __future__ import annotations

import json
import sqlite3

from mcp_anyreach.sandbox.errors import Conflict, Invalid, NotFound
from mcp_anyreach.sandbox.schemas import InboundRoutingConfig, RoutingConfigCreate, RoutingConfigUpdate
from mcp_anyreach.sandbox.store.db import Database, new_id


def _config(row: sqlite3.Row) -> InboundRoutingConfig:
    definition = row["workflow_definition"]
    return InboundRoutingConfig(
        id=row["id"],
        organization_id=row["org_id"],
        enabled=bool(row["enabled"]),
        workflow_id=row["workflow_id"],
        workflow_version=row["workflow_version"],
        workflow_definition=None if definition is None else json.loads(definition),
        fallback_agent_id=row["fallback_agent_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _merge(current: InboundRoutingConfig, body: RoutingConfigUpdate) -> InboundRoutingConfig:
    changes = body.model_dump(include=body.model_fields_set)
    if changes.get("enabled", True) is None:
        raise Invalid(("enabled",), "enabled must be true or false")
    if "workflow_id" in changes and changes["workflow_id"] is not None:
        changes.setdefault("workflow_definition", None)
        changes.setdefault("workflow_version", None)
    if changes.get("workflow_definition") is not None:
        changes.update(workflow_id=None, workflow_version=None)
    merged = current.model_copy(update=changes)
    if (merged.workflow_id is None) == (merged.workflow_definition is None):
        raise Invalid(("workflow_id",), "the config needs exactly one of workflow_id or workflow_definition")
    return merged


def _replace(current: InboundRoutingConfig, body: RoutingConfigUpdate) -> InboundRoutingConfig:
    """A replacing PUT: the body is the whole config; a field left out takes its default."""
    enabled = True if body.enabled is None else body.enabled
    replaced = current.model_copy(update={**body.model_dump(), "enabled": enabled})
    if (replaced.workflow_id is None) == (replaced.workflow_definition is None):
        raise Invalid(
            ("workflow_id",), "PUT replaces the whole config: give exactly one of workflow_id or workflow_definition"
        )
    if replaced.workflow_version is not None and replaced.workflow_id is None:
        raise Invalid(("workflow_version",), "workflow_version needs workflow_id")
    return replaced


class RoutingConfigs:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, org_id: str) -> InboundRoutingConfig | None:
        row = self._db.query_one("SELECT * FROM inbound_routing_configs WHERE org_id = ?", (org_id,))
        return None if row is None else _config(row)

    def require(self, org_id: str) -> InboundRoutingConfig:
        config = self.get(org_id)
        if config is None:
            raise NotFound("This organization has no inbound routing config; create one with POST first")
        return config

    def create(self, org_id: str, body: RoutingConfigCreate) -> InboundRoutingConfig:
        now = self._db.now()
        with self._db.transaction() as tx:
            if tx.execute("SELECT 1 FROM inbound_routing_configs WHERE org_id = ?", (org_id,)).fetchone():
                raise Conflict("This organization already has an inbound routing config; update it with PUT")
            tx.execute(
                "INSERT INTO inbound_routing_configs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (org_id, new_id("irc"), int(body.enabled), *self._workflow(body), body.fallback_agent_id, now, now),
            )
        return self.require(org_id)

    def update(self, org_id: str, body: RoutingConfigUpdate, *, replace: bool = False) -> InboundRoutingConfig:
        """Merge `body` into the config; with `replace`, the body is the whole config."""
        merged = (_replace if replace else _merge)(self.require(org_id), body)
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE inbound_routing_configs SET enabled = ?, workflow_id = ?, workflow_version = ?,"
                " workflow_definition = ?, fallback_agent_id = ?, updated_at = ? WHERE org_id = ?",
                (int(merged.enabled), *self._workflow(merged), merged.fallback_agent_id, self._db.now(), org_id),
            )
        return self.require(org_id)

    def delete(self, org_id: str) -> None:
        self.require(org_id)
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM inbound_routing_configs WHERE org_id = ?", (org_id,))

    @staticmethod
    def _workflow(
        source: RoutingConfigCreate | InboundRoutingConfig,
    ) -> tuple[str | None, int | None, str | None]:
        definition = None if source.workflow_definition is None else json.dumps(source.workflow_definition)
        return source.workflow_id, source.workflow_version, definition
