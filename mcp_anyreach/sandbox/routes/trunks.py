"""/core/trunks: SIP trunks. Responses never carry a password."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from mcp_anyreach.sandbox.auth import Store, requires
from mcp_anyreach.sandbox.behaviour import SandboxBehaviour
from mcp_anyreach.sandbox.routes import list_filter, router, set_next_cursor
from mcp_anyreach.sandbox.schemas import (
    InboundConfigView,
    OutboundConfigView,
    Trunk,
    TrunkCreate,
    TrunkListQuery,
    TrunkUpdate,
)
from mcp_anyreach.sandbox.store import TrunkRecord

routes = router("trunks")
Reader = Annotated[str, Depends(requires("trunks:read"))]
Manager = Annotated[str, Depends(requires("trunks:manage"))]


def view(record: TrunkRecord) -> Trunk:
    return Trunk(
        id=record.id,
        name=record.name,
        managed_account_id=record.managed_account_id,
        inbound_config=InboundConfigView.of(record.inbound_config) if record.inbound_config else None,
        outbound_config=OutboundConfigView.of(record.outbound_config) if record.outbound_config else None,
        organization_id=record.organization_id,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


@routes.get("/trunks", response_model=list[Trunk])
async def list_trunks(
    org_id: Reader, store: Store, query: Annotated[TrunkListQuery, Query()], response: Response
) -> list[Trunk]:
    page = store.trunks.list(org_id, list_filter(query), query.name)
    set_next_cursor(response, page.next_cursor)
    return [view(record) for record in page.items]


@routes.get("/trunks/{trunk_id}", response_model=Trunk)
async def get_trunk(org_id: Reader, store: Store, trunk_id: str) -> Trunk:
    return view(store.trunks.get(org_id, trunk_id))


@routes.post("/trunks", response_model=Trunk, status_code=201)
async def create_trunk(org_id: Manager, store: Store, body: TrunkCreate) -> Trunk:
    return view(store.trunks.create(org_id, body))


@routes.put("/trunks/{trunk_id}", response_model=Trunk)
async def update_trunk(
    org_id: Manager, store: Store, trunk_id: str, body: TrunkUpdate, behaviour: SandboxBehaviour
) -> Trunk:
    return view(store.trunks.update(org_id, trunk_id, body, replace=behaviour.put == "replace"))


@routes.delete("/trunks/{trunk_id}", status_code=204, response_class=Response)
async def delete_trunk(org_id: Manager, store: Store, trunk_id: str) -> None:
    store.trunks.delete(org_id, trunk_id)
