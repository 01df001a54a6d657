"""The numbers that searches offered, so a purchase can be previewed without searching again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from mcp_anyreach.api import AvailableNumber


class OfferMemory(Protocol):
    async def remember(self, offers: Sequence[AvailableNumber]) -> None: ...

    async def recall(self, phone_number: str) -> AvailableNumber | None: ...

    async def forget(self, phone_number: str) -> None: ...


class MemoryOffers:
    """The latest `capacity` offers of this process."""

    def __init__(self, capacity: int = 500) -> None:
        self._capacity = capacity
        self._offers: OrderedDict[str, AvailableNumber] = OrderedDict()
        self._lock = threading.Lock()

    async def remember(self, offers: Sequence[AvailableNumber]) -> None:
        with self._lock:
            for offer in offers:
                self._offers[offer.phone_number] = offer
                self._offers.move_to_end(offer.phone_number)
            while len(self._offers) > self._capacity:
                self._offers.popitem(last=False)  # the oldest

    async def recall(self, phone_number: str) -> AvailableNumber | None:
        with self._lock:
            return self._offers.get(phone_number)

    async def forget(self, phone_number: str) -> None:
        with self._lock:
            self._offers.pop(phone_number, None)
