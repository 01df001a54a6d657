"""/core/inbound-routing-config: one config per organization."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from mcp_anyreach.sandbox.auth import Store, requires
from mcp_anyreach.sandbox.behaviour import SandboxBehaviour
from mcp_anyreach.sandbox.routes import router
from mcp_anyreach.sandbox.schemas import InboundRoutingConfig, RoutingConfigCreate, RoutingConfigUpdate

routes = router("inbound routing")
Reader = Annotated[str, Depends(requires("inbound_routing_configs:read"))]
Manager = Annotated[str, Depends(requires("inbound_routing_configs:manage"))]
PATH = "/inbound-routing-config"


@routes.get(PATH, response_model=InboundRoutingConfig | None)
async def get_inbound_routing_config(org_id: Reader, store: Store) -> InboundRoutingConfig | None:
    return store.routing.get(org_id)


@routes.post(PATH, response_model=InboundRoutingConfig, status_code=201)
async def create_inbound_routing_config(
    org_id: Manager, store: Store, body: RoutingConfigCreate
) -> InboundRoutingConfig:
    return store.routing.create(org_id, body)


@routes.put(PATH, response_model=InboundRoutingConfig)
async def update_inbound_routing_config(
    org_id: Manager, store: Store, body: RoutingConfigUpdate, behaviour: SandboxBehaviour
) -> InboundRoutingConfig:
    return store.routing.update(org_id, body, replace=behaviour.put == "replace")


@routes.delete(PATH, status_code=204, response_class=Response)
async def delete_inbound_routing_config(org_id: Manager, store: Store) -> None:
    store.routing.delete(org_id)
