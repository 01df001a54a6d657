"""Searching a managed account's pool and buying from it."""

from __future__ import annotations

import json

from mcp_anyreach.sandbox.errors import NotFound
from mcp_anyreach.sandbox.pool import AvailableNumber, NumberSearch, available_numbers
from mcp_anyreach.sandbox.schemas import PhoneNumber
from mcp_anyreach.sandbox.store import phone_numbers, trunks
from mcp_anyreach.sandbox.store.db import Database, new_uuid
from mcp_anyreach.sandbox.store.orgs import Organizations


class Purchases:
    def __init__(self, db: Database, organizations: Organizations, directory: phone_numbers.PhoneNumbers) -> None:
        self._db = db
        self._organizations = organizations
        self._directory = directory

    def search(self, org_id: str, account_id: str, search: NumberSearch) -> list[AvailableNumber]:
        self._organizations.require_managed_account(org_id, account_id)
        matches = [number for number in available_numbers().values() if search.matches(number)]
        taken = self._registered([number.phone_number for number in matches])
        return [number for number in matches if number.phone_number not in taken][: search.limit]

    def purchase(self, org_id: str, account_id: str, number: str, *, number_limit: int) -> PhoneNumber:
        self._organizations.require_managed_account(org_id, account_id)
        if number not in available_numbers():
            raise NotFound(f"{number} is not offered by managed account {account_id}; search for available numbers")
        now = self._db.now()
        with self._db.transaction() as tx:
            phone_numbers.check_unregistered(tx, number)
            phone_numbers.check_room(tx, org_id, number_limit)
            trunk_id = new_uuid()
            trunks.insert(tx, trunk_id, org_id, f"Managed {number}", account_id, now)
            phone_numbers.insert(tx, number, org_id, trunk_id, False, now)
        return self._directory.get(org_id, number)

    def _registered(self, numbers: list[str]) -> set[str]:
        if not numbers:
            return set()
        rows = self._db.query(
            "SELECT phone_number FROM phone_numbers WHERE phone_number IN (SELECT value FROM json_each(?))",
            (json.dumps(numbers),),
        )
        return {row[0] for row in rows}
