"""The trunks toolset: SIP connectivity, customer-owned (BYOC) trunks editable, managed ones read-only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field, SecretStr

from mcp_anyreach.api import UNSET, InboundConfig, OutboundConfig, PasswordRequiredError, Trunk, Unset
from mcp_anyreach.api.resources.trunks import Side, complete_trunk
from mcp_anyreach.domain.api_errors import api_errors
from mcp_anyreach.domain.args import (
    ConfirmationToken,
    Cursor,
    InboundArgs,
    Limit,
    OutboundArgs,
    TrunkId,
    TrunkName,
    inbound_config,
    outbound_config,
)
from mcp_anyreach.domain.records import POSSIBLY_INCOMPLETE, Gated, Listing, TrunkView
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.text import named
from mcp_anyreach.domain.trunk_changes import new_trunk_settings, trunk_changes
from mcp_anyreach.domain.trunk_merge import check_new_side, merged_side
from mcp_anyreach.domain.uris import TRUNKS_URI, trunk_uri
from mcp_anyreach.server.gate.gatekeeper import Verdict
from mcp_anyreach.server.gate.tokens import Preview
from mcp_anyreach.server.services import Services
from mcp_anyreach.server.tools.undoable import run_undoable

TRUNK_NOT_FOUND = "Find trunk ids with list_trunks."
MANAGED = "managed trunks belong to purchased numbers and cannot be changed through the API"
Name = TrunkName
Removal = Literal["inbound", "outbound", "both"]
Password = Annotated[
    SecretStr | None,
    Field(
        max_length=128,
        description="SIP auth password (never returned): the current one to keep auth, a new one to rotate",
    ),
]


async def list_trunks(
    services: Services,
    name: Annotated[str | None, Field(max_length=128, description="Text the name contains")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Listing[TrunkView]:
    """List SIP trunks, oldest first: managed (bought numbers) and BYOC (your carrier)."""
    with api_errors(retry_safe=True):
        page = await services.client.trunks.list(name=name, limit=limit, cursor=cursor)
    warning = POSSIBLY_INCOMPLETE if page.possibly_incomplete else None
    return Listing(items=[TrunkView.of(t) for t in page.items], next_cursor=page.next_cursor, warning=warning)


async def get_trunk(services: Services, trunk_id: TrunkId) -> TrunkView:
    """Get one SIP trunk with its inbound and outbound settings."""
    with api_errors(retry_safe=True, not_found=TRUNK_NOT_FOUND):
        return TrunkView.of(await services.client.trunks.get(trunk_id))


async def preview_create_trunk(
    services: Services, name: str, inbound: InboundArgs | None, outbound: OutboundArgs | None
) -> Preview:
    if outbound is not None:
        check_new_side("outbound", outbound)
    settings = new_trunk_settings({"inbound": inbound, "outbound": outbound})
    summary = f"Create BYOC trunk {name!r}; numbers registered on it take its calls:\n- " + "\n- ".join(settings)
    return Preview(summary, None)


async def create_trunk(
    services: Services,
    ctx: Context,
    verdict: Verdict,
    name: Name,
    inbound: InboundArgs | None = None,
    outbound: OutboundArgs | None = None,
    confirmation_token: ConfirmationToken = None,
) -> Gated[TrunkView]:
    """Create a BYOC SIP trunk to your carrier, then register numbers on it. Gated."""

    async def create() -> TrunkView:
        with api_errors(retry_safe=False):
            trunk = await services.client.trunks.create(
                name=name,
                inbound_config=inbound_config(inbound) if inbound else None,
                outbound_config=outbound_config(outbound) if outbound else None,
            )
        return TrunkView.of(trunk)

    from mcp_anyreach.changes.undo import Touched

    return await run_undoable(services, ctx, verdict, create, Touched(created_trunks=(name,)), changed=[TRUNKS_URI])


async def preview_update_trunk(
    services: Services,
    trunk_id: str,
    name: str | None,
    inbound: InboundArgs | None,
    outbound: OutboundArgs | None,
    remove: Removal | None,
    inbound_password: SecretStr | None,
    outbound_password: SecretStr | None,
) -> Preview:
    trunk, count = await _editable_trunk(services, trunk_id)
    removed = _sides(remove)
    given: dict[Side, InboundArgs | OutboundArgs | None] = {"inbound": inbound, "outbound": outbound}
    if removed & {side for side, config in given.items() if config is not None}:
        raise Refusal("Do not both change and remove the same config.")
    passwords = _passwords(inbound_password, outbound_password)
    for side in passwords:
        if (config := given[side]) is not None and "auth_password" in config.model_fields_set:
            raise Refusal(f"Give the {side} password once: as {side}_password or as {side}.auth_password.")
    sides = _merged(trunk, inbound, outbound)
    _check_passwords(trunk, removed, sides, passwords)
    shown: dict[str, BaseModel | None] = {**sides}
    changes = trunk_changes(trunk, name, shown, removed, passwords=set(passwords))
    if not changes:
        raise Refusal(
            "Nothing to change: the fields given already have these values. Give name, inbound or outbound fields, "
            "a password to rotate, or remove."
        )
    summary = (
        f"Update BYOC trunk {named(trunk.name)!r} ({trunk.id}); {_numbers_phrase(count)} use it and their calls "
        "follow the new settings at once:\n- " + "\n- ".join(changes)
    )
    return Preview(summary, trunk.model_dump(mode="json"), (trunk_uri(trunk_id),))


async def update_trunk(
    services: Services,
    ctx: Context,
    trunk_id: TrunkId,
    verdict: Verdict,
    name: Name | None = None,
    inbound: InboundArgs | None = None,
    outbound: OutboundArgs | None = None,
    remove: Removal | None = None,
    inbound_password: Password = None,
    outbound_password: Password = None,
    confirmation_token: ConfirmationToken = None,
) -> Gated[TrunkView]:
    """Change a BYOC trunk: fields given change (a list is replaced), omitted ones stay, null clears. Affects live
    calls. Gated."""
    changes: dict[str, Any] = {f"{side}_config": None for side in _sides(remove)}
    # Merged onto the trunk the human saw in the preview, so what runs is what was approved.
    approved = Trunk.model_validate(verdict.preview.state)
    for side, config in _merged(approved, inbound, outbound).items():
        changes[f"{side}_config"] = (
            inbound_config(config) if isinstance(config, InboundArgs) else outbound_config(config)
        )

    passwords = _passwords(inbound_password, outbound_password)

    async def update() -> TrunkView:
        with api_errors(retry_safe=True, not_found=TRUNK_NOT_FOUND, refused=MANAGED):
            updated = await services.client.trunks.update(trunk_id, name=name, passwords=passwords, **changes)
        return TrunkView.of(updated)

    from mcp_anyreach.changes.undo import Touched

    touched = Touched(trunk_ids=frozenset({trunk_id}))
    return await run_undoable(services, ctx, verdict, update, touched, changed=[TRUNKS_URI, trunk_uri(trunk_id)])


async def preview_delete_trunk(services: Services, trunk_id: str) -> Preview:
    trunk, count = await _editable_trunk(services, trunk_id)
    if count:
        raise Refusal(
            f"Trunk {trunk.id} still carries {_numbers_phrase(count).lower()}; delete them with "
            "delete_phone_number (or register them elsewhere) first."
        )
    return Preview(
        f"Delete BYOC trunk {named(trunk.name)!r} ({trunk.id}). No numbers use it.",
        trunk.model_dump(mode="json"),
        (trunk_uri(trunk_id),),
    )


async def delete_trunk(
    services: Services,
    ctx: Context,
    trunk_id: TrunkId,
    verdict: Verdict,
    confirmation_token: ConfirmationToken = None,
) -> Gated[str]:
    """Delete a BYOC trunk no number uses. Gated."""

    async def delete() -> str:
        with api_errors(
            retry_safe=True,
            not_found=TRUNK_NOT_FOUND,
            refused=MANAGED,
            conflict="Move or delete its numbers first.",
        ):
            await services.client.trunks.delete(trunk_id)
        return trunk_id

    from mcp_anyreach.changes.undo import Touched

    touched = Touched(trunk_ids=frozenset({trunk_id}))
    changed = [TRUNKS_URI, trunk_uri(trunk_id)]
    return await run_undoable(services, ctx, verdict, delete, touched, changed=changed, read_back=True)


async def _editable_trunk(services: Services, trunk_id: str) -> tuple[Trunk, int]:
    with api_errors(retry_safe=True, not_found=TRUNK_NOT_FOUND):
        trunk = await services.client.trunks.get(trunk_id)
    if trunk.managed_account_id:
        raise Refusal(f"Trunk {trunk_id} is managed: {MANAGED}. Create a BYOC trunk with create_trunk instead.")
    with api_errors(retry_safe=True, not_found=TRUNK_NOT_FOUND):
        numbers = await services.client.phone_numbers.list(trunk_id=trunk_id, limit=100)
    return trunk, len(numbers.items)


def _passwords(inbound: SecretStr | None, outbound: SecretStr | None) -> dict[Side, SecretStr]:
    given: dict[Side, SecretStr | None] = {"inbound": inbound, "outbound": outbound}
    return {side: password for side, password in given.items() if password is not None}


def _merged(
    trunk: Trunk, inbound: InboundArgs | None, outbound: OutboundArgs | None
) -> dict[Side, InboundArgs | OutboundArgs]:
    """The sides given, as they will be: the fields given over the trunk's current ones."""
    sides: dict[Side, InboundArgs | OutboundArgs] = {}
    if inbound is not None:
        sides["inbound"] = merged_side("inbound", trunk.inbound_config, inbound)
    if outbound is not None:
        sides["outbound"] = merged_side("outbound", trunk.outbound_config, outbound)
    return sides


def _check_passwords(
    trunk: Trunk,
    removed: set[str],
    sides: Mapping[Side, InboundArgs | OutboundArgs],
    passwords: dict[Side, SecretStr],
) -> None:
    """The update sends the whole trunk; refuse it before asking anyone if a kept password is missing."""
    configs: dict[Side, InboundConfig | OutboundConfig | Unset | None] = {}
    for side in ("inbound", "outbound"):
        config = sides.get(side)
        configs[side] = (
            None
            if side in removed
            else UNSET
            if config is None
            else inbound_config(config)
            if isinstance(config, InboundArgs)
            else outbound_config(config)
        )
    try:
        complete_trunk(
            trunk, inbound_config=configs["inbound"], outbound_config=configs["outbound"], passwords=passwords
        )
    except PasswordRequiredError as missing:
        needed = " and ".join(f"{side}_password" for side in missing.sides)
        raise Refusal(
            f"Updating sends the whole trunk, and it keeps SIP authentication on the {' and '.join(missing.sides)} "
            f"side, whose password the API never returns. Ask the user for it and give {needed} too "
            "(or clear that side's auth_username, or remove that side). Nothing was changed."
        ) from None
    except ValueError as exc:
        raise Refusal(f"{exc}: leave that password out.") from None


def _sides(remove: str | None) -> set[str]:
    return {"inbound", "outbound"} if remove == "both" else {remove} if remove else set()


def _numbers_phrase(count: int) -> str:
    if count >= 100:
        return "100 or more numbers"
    return "1 number" if count == 1 else f"{count} numbers"
