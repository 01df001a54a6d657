"""What the purchasing tools ask of the shared state: the spend budget and the offers searches made."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mcp_anyreach.api import AvailableNumber
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.shared_state.budget import PurchaseBudget
from mcp_anyreach.shared_state.errors import SharedStateUnavailable
from mcp_anyreach.shared_state.offers import OfferMemory

logger = logging.getLogger("mcp_anyreach.server")


@dataclass
class Purchases:
    """Spending fails closed (no budget, no purchase); remembering offers is a convenience that may fail."""

    budget: PurchaseBudget
    offers: OfferMemory
    clock: Callable[[], float] = field(default=time.time)

    @property
    def limit_text(self) -> str:
        return f"{self.budget.limit} per {_duration(self.budget.window_seconds)}"

    async def remaining(self) -> int:
        """Purchases left in the window now; Refusal (nothing bought) when none are, or nobody can tell."""
        now = self.clock()
        with _unreachable_buys_nothing():
            left = self.budget.limit - await self.budget.spent(now)
        if left <= 0:
            raise await self._exhausted(now)
        return left

    async def reserve(self) -> str:
        """Take a slot before buying, atomically across every replica sharing the budget."""
        now = self.clock()
        with _unreachable_buys_nothing():
            reservation = await self.budget.reserve(now)
        if reservation is None:
            raise await self._exhausted(now)
        return reservation

    async def release(self, reservation: str) -> None:
        """Give the slot back: only for a purchase the API certainly refused."""
        try:
            await self.budget.release(reservation)
        except SharedStateUnavailable as exc:
            logger.warning("a refused purchase still counts against the budget until it leaves the window: %s", exc)

    async def remember(self, offers: Sequence[AvailableNumber]) -> None:
        try:
            await self.offers.remember(offers)
        except SharedStateUnavailable as exc:  # the search still answers; a purchase will search again
            logger.warning("offers not remembered: %s", exc)

    async def recall(self, phone_number: str) -> AvailableNumber | None:
        try:
            return await self.offers.recall(phone_number)
        except SharedStateUnavailable as exc:
            logger.warning("offers not recalled: %s", exc)
            return None

    async def forget(self, phone_number: str) -> None:
        try:
            await self.offers.forget(phone_number)
        except SharedStateUnavailable as exc:
            logger.warning("a bought number stays among the remembered offers: %s", exc)

    async def _exhausted(self, now: float) -> Refusal:
        with _unreachable_buys_nothing():
            frees_at = await self.budget.frees_at(now)
        # A slot freed between the two reads: the next attempt may well succeed.
        when = "now" if frees_at is None or frees_at <= now else _when(frees_at, now)
        return Refusal(
            f"The organization has reached its purchase limit ({self.limit_text}, counted across every replica); "
            f"nothing was bought. The next purchase becomes possible {when}, when the oldest purchase leaves the "
            "window; an operator can raise --max-purchases or shorten --purchase-window."
        )


@contextmanager
def _unreachable_buys_nothing() -> Generator[None]:
    try:
        yield
    except SharedStateUnavailable as exc:
        raise Refusal(
            "The shared purchase budget cannot be reached right now, so nothing was bought. "
            "Try again in a minute; the operator should check the server's Redis or token store."
        ) from exc


def _when(at: float, now: float) -> str:
    moment = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    minutes = math.ceil((at - now) / 60)
    wait = f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
    return f"at {moment} (in {wait})"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"
