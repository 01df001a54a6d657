"""/core/phone-numbers: the directory."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from mcp_anyreach.sandbox.auth import NumberLimit, Store, requires
from mcp_anyreach.sandbox.routes import list_filter, router, set_next_cursor
from mcp_anyreach.sandbox.schemas import PhoneNumber, PhoneNumberCreate, PhoneNumberListQuery, PhoneNumberUpdate

routes = router("phone numbers")
Reader = Annotated[str, Depends(requires("phone_numbers:read"))]
Manager = Annotated[str, Depends(requires("phone_numbers:manage"))]


@routes.get("/phone-numbers", response_model=list[PhoneNumber])
async def list_phone_numbers(
    org_id: Reader, store: Store, query: Annotated[PhoneNumberListQuery, Query()], response: Response
) -> list[PhoneNumber]:
    page = store.phone_numbers.list(org_id, list_filter(query), query.phone_number, query.trunk_id)
    set_next_cursor(response, page.next_cursor)
    return page.items


@routes.get("/phone-numbers/{phone_number}", response_model=PhoneNumber)
async def get_phone_number(org_id: Reader, store: Store, phone_number: str) -> PhoneNumber:
    return store.phone_numbers.get(org_id, phone_number)


@routes.post("/phone-numbers", response_model=PhoneNumber, status_code=201)
async def register_phone_number(
    org_id: Manager, store: Store, limit: NumberLimit, body: PhoneNumberCreate
) -> PhoneNumber:
    return store.phone_numbers.add(
        org_id, body.phone_number, body.trunk_id, body.outbound_shareable, number_limit=limit
    )


@routes.patch("/phone-numbers/{phone_number}", response_model=PhoneNumber)
async def update_phone_number(org_id: Manager, store: Store, phone_number: str, body: PhoneNumberUpdate) -> PhoneNumber:
    return store.phone_numbers.set_outbound_shareable(org_id, phone_number, body.outbound_shareable)


@routes.delete("/phone-numbers/{phone_number}", status_code=204, response_class=Response)
async def delete_phone_number(org_id: Manager, store: Store, phone_number: str) -> None:
    store.phone_numbers.delete(org_id, phone_number)
