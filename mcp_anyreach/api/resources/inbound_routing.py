from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp_anyreach.api._http import HTTPCore, parse_json, parse_model, validate
from mcp_anyreach.api.errors import NotFoundError, ReadOnlyError
from mcp_anyreach.api.models import UNSET, InboundRoutingConfig, Unset

PATH = "/core/inbound-routing-config"
FIELDS = ("enabled", "workflow_id", "workflow_version", "workflow_definition", "fallback_agent_id")


def complete_routing(current: InboundRoutingConfig, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The whole config as a PUT should carry it, so that a replacing and a merging PUT agree.

    Naming one kind of workflow (an id, or an inline definition) clears the other, and with it the version.
    """
    body = {field: getattr(current, field) for field in FIELDS}
    if changes.get("workflow_id") is not None:
        body.update(workflow_definition=None, workflow_version=None)
    if changes.get("workflow_definition") is not None:
        body.update(workflow_id=None, workflow_version=None)
    return body | dict(changes)


class InboundRouting:
    """The organization's single inbound-routing config: `/core/inbound-routing-config`."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    async def get(self) -> InboundRoutingConfig | None:
        """The config, or None when the organization has none."""
        response = await self._core.request("GET", PATH)
        payload = parse_json(response)
        return None if payload is None else validate(response, InboundRoutingConfig, payload)

    async def create(
        self,
        *,
        enabled: bool = True,
        workflow_id: str | None = None,
        workflow_version: int | None = None,
        workflow_definition: dict[str, Any] | None = None,
        fallback_agent_id: str | None = None,
    ) -> InboundRoutingConfig:
        """Create the config; ConflictError when one exists already."""
        optional = {
            "workflow_id": workflow_id,
            "workflow_version": workflow_version,
            "workflow_definition": workflow_definition,
            "fallback_agent_id": fallback_agent_id,
        }
        body = {"enabled": enabled, **{key: value for key, value in optional.items() if value is not None}}
        response = await self._core.request("POST", PATH, json=body)
        return parse_model(response, InboundRoutingConfig)

    async def update(
        self,
        *,
        enabled: bool | Unset = UNSET,
        workflow_id: str | Unset | None = UNSET,
        workflow_version: int | Unset | None = UNSET,
        workflow_definition: dict[str, Any] | Unset | None = UNSET,
        fallback_agent_id: str | Unset | None = UNSET,
    ) -> InboundRoutingConfig:
        """Change the fields passed (None clears one); the rest stay. NotFoundError when there is no config.

        The config is read, then sent whole (see `complete_routing`).
        """
        if self._core.read_only:
            raise ReadOnlyError("PUT", PATH)
        given = {
            "enabled": enabled,
            "workflow_id": workflow_id,
            "workflow_version": workflow_version,
            "workflow_definition": workflow_definition,
            "fallback_agent_id": fallback_agent_id,
        }
        current = await self.get()
        if current is None:
            detail = "This organization has no inbound routing config; create one first"
            raise NotFoundError(404, detail, method="PUT", path=PATH)
        changes = {key: value for key, value in given.items() if value is not UNSET}
        response = await self._core.request("PUT", PATH, json=complete_routing(current, changes))
        return parse_model(response, InboundRoutingConfig)

    async def delete(self) -> None:
        await self._core.request("DELETE", PATH)
