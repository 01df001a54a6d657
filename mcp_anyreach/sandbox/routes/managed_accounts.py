"""/core/managed-accounts: search the pool and buy numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from mcp_anyreach.sandbox.auth import NumberLimit, Store, requires
from mcp_anyreach.sandbox.pool import AvailableNumber, NumberSearch
from mcp_anyreach.sandbox.routes import router
from mcp_anyreach.sandbox.schemas import PhoneNumber, PurchaseNumber

routes = router("managed accounts")
Reader = Annotated[str, Depends(requires("managed_accounts:read"))]
Buyer = Annotated[str, Depends(requires("managed_accounts:manage", "phone_numbers:manage"))]


@routes.get("/managed-accounts/{managed_account_id}/search-numbers", response_model=list[AvailableNumber])
async def search_numbers(
    org_id: Reader, store: Store, managed_account_id: str, search: Annotated[NumberSearch, Query()]
) -> list[AvailableNumber]:
    return store.purchases.search(org_id, managed_account_id, search)


@routes.post("/managed-accounts/{managed_account_id}/purchase-number", response_model=PhoneNumber, status_code=201)
async def purchase_number(
    org_id: Buyer, store: Store, limit: NumberLimit, managed_account_id: str, body: PurchaseNumber
) -> PhoneNumber:
    return store.purchases.purchase(org_id, managed_account_id, body.phone_number, number_limit=limit)
