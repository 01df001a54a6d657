"""What every tool shares: the API client, the gates, the audit log, the purchase budget, notifications."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp.server.mcpserver import AcceptedElicitation, CancelledElicitation, Context, DeclinedElicitation
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError

from mcp_anyreach.api import AnyreachClient
from mcp_anyreach.server.audit_log import AuditLog
from mcp_anyreach.server.confirm import Approval, Cleared, Gatekeeper, TokenRequired
from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.shared_state.purchases import Purchases
from mcp_anyreach.server.views import Gated
from mcp_anyreach.settings import Settings

logger = logging.getLogger("mcp_anyreach.server")
T = TypeVar("T")
GateOutcome = AcceptedElicitation[Approval] | DeclinedElicitation | CancelledElicitation

INVENTORY_URI = "anyreach://inventory"
NUMBERS_URI = "anyreach://phone-numbers"
TRUNKS_URI = "anyreach://trunks"
ROUTING_URI = "anyreach://inbound-routing-config"


@dataclass
class Services:
    client: AnyreachClient
    settings: Settings
    gatekeeper: Gatekeeper
    audit: AuditLog
    sandbox: bool
    purchases: Purchases
    _managed_account_id: str | None = None

    async def managed_account_id(self) -> str:
        """The managed account to search and buy through: configured, or found on the org's managed trunks."""
        if self._managed_account_id is None:
            self._managed_account_id = self.settings.managed_account_id or await self._discover_managed_account()
        return self._managed_account_id

    async def _discover_managed_account(self) -> str:
        found: set[str] = set()
        with api_errors(retry_safe=True):
            async for trunk in self.client.trunks.iter():
                if trunk.managed_account_id:
                    found.add(trunk.managed_account_id)
        if len(found) == 1:
            return found.pop()
        reason = "has no managed trunk" if not found else f"has several managed accounts ({', '.join(sorted(found))})"
        raise ToolError(
            f"Cannot tell which managed account to buy through: the organization {reason}. "
            "Set ANYREACH_MANAGED_ACCOUNT_ID to the managed account id and restart the server."
        )

    async def write(
        self,
        ctx: Context,
        tool: str,
        arguments: Mapping[str, Any],
        action: Callable[[], Awaitable[T]],
        *,
        changed: Sequence[str] = (),
        via: str | None = None,
    ) -> T:
        """Run an (already approved) write: audit it, and on success tell clients what changed."""
        try:
            result = await action()
        except ToolError as exc:
            self.audit.record(tool, arguments, outcome=f"error: {exc}", via=via)
            raise
        self.audit.record(tool, arguments, outcome="done", via=via)
        await notify_changed(ctx, changed)
        return result

    async def gated(
        self,
        ctx: Context,
        tool: str,
        arguments: Mapping[str, Any],
        approval: GateOutcome,
        action: Callable[[], Awaitable[T]],
        *,
        changed: Sequence[str] = (),
    ) -> Gated[T]:
        """Run a gated write only if it was approved; otherwise say why nothing changed."""
        match approval:
            case AcceptedElicitation(data=TokenRequired() as preview):
                self.audit.record(tool, arguments, outcome="confirmation_required", via="token")
                return Gated[T](
                    status="confirmation_required",
                    message=f"{preview.summary}\nNothing has changed yet. Show this to the user; if they agree, "
                    f"call {tool} again with the same arguments and this confirmation_token "
                    f"(valid {preview.expires_in_seconds} s, once).",
                    confirmation_token=preview.confirmation_token,
                )
            case AcceptedElicitation(data=Cleared(via=via, summary=summary)):
                try:
                    result = await self.write(ctx, tool, arguments, action, changed=changed, via=via)
                except ToolError as exc:
                    if via != "token":
                        raise
                    raise ToolError(
                        f"{exc} The confirmation token is spent: call {tool} again without it to preview again."
                    ) from exc
                return Gated[T](status="done", message=f"Done: {summary}", result=result)
            case AcceptedElicitation(data=Approval(confirm=True)):
                if not await self.gatekeeper.unchanged_since_asked(ctx, tool, arguments):
                    self.audit.record(tool, arguments, outcome="state changed before the answer", via="elicitation")
                    raise ToolError(
                        f"What {tool} touches changed while the user was deciding, so nothing was done. "
                        "Call it again to show the user the current state."
                    )
                result = await self.write(ctx, tool, arguments, action, changed=changed, via="elicitation")
                return Gated[T](status="done", message="Done, as the user confirmed.", result=result)
            case CancelledElicitation():
                self.audit.record(tool, arguments, outcome="cancelled", via="elicitation")
                return Gated[T](status="cancelled", message="The user dismissed the confirmation; nothing changed.")
            case _:
                self.audit.record(tool, arguments, outcome="declined", via="elicitation")
                return Gated[T](status="declined", message="The user declined; nothing changed.")


async def notify_changed(ctx: Context, uris: Sequence[str]) -> None:
    """Resource notifications in both protocol eras: the subscription bus (modern) and the session (legacy)."""
    if not uris:
        return
    await ctx.notify_resources_changed()
    for uri in (INVENTORY_URI, *uris):
        await ctx.notify_resource_updated(uri)
    # A modern or stateless connection has no back channel; the bus above already served it.
    with contextlib.suppress(MCPError, RuntimeError):
        await ctx.session.send_resource_list_changed()
        for uri in (INVENTORY_URI, *uris):
            await ctx.session.send_resource_updated(uri)
