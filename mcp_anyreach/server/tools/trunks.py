"""The trunks toolset: SIP connectivity, customer-owned (BYOC) trunks editable, managed ones read-only."""

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, cast

from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from mcp_anyreach.api import (
    UNSET,
    InboundConfig,
    OutboundConfig,
    PasswordRequiredError,
    Trunk,
    Unset,
)
from mcp_anyreach.api.resources.trunks import Side, complete_trunk
from mcp_anyreach.server.args import ConfirmationToken, Cursor, Limit, PhoneNumberList, Text, TrunkId
from mcp_anyreach.server.confirm import Preview
from mcp_anyreach.server.errors import api_errors
from mcp_anyreach.server.services import TRUNKS_URI, GateOutcome, Services
from mcp_anyreach.server.tools.trunk_changes import trunk_changes
from mcp_anyreach.server.views import POSSIBLY_INCOMPLETE, Gated, Listing, TrunkView

TRUNK_NOT_FOUND = "Find trunk ids with list_trunks."
MANAGED = "managed trunks belong to purchased numbers and cannot be changed through the API"
Encryption = Literal["NONE", "ALLOW", "REQUIRE"]
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_HEADER_NAME = re.compile(r"X-[A-Za-z0-9-]{1,64}")
KeptPassword = Annotated[SecretStr | None, Field(max_length=128)]


def _address_or_cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError as exc:
        raise ValueError(f"{value[:60]!r} is not an IPv4/IPv6 address or CIDR block") from exc


def _sip_address(value: str) -> str:
    """A carrier host name or IP with an optional port, nothing else (no scheme, user, params or headers)."""
    bracketed = value.startswith("[")
    host, _, port = value.rpartition(":") if bracketed or value.count(":") == 1 else (value, "", "")
    host = host.strip("[]") if bracketed else host
    host_ok = _is_ip(host) or bool(host and all(_HOST_LABEL.fullmatch(part) for part in host.rstrip(".").split(".")))
    if host_ok and (not port or (port.isdigit() and 0 < int(port) < 65536)):
        return value
    raise ValueError(f"{value[:60]!r} is not a host name or IP address with an optional :port (1-65535, no sip:)")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _sip_headers(value: dict[str, str]) -> dict[str, str]:
    for name, text in value.items():
        if not _HEADER_NAME.fullmatch(name) or any(c in text for c in "\r\n\0"):
            raise ValueError(f"header {name[:40]!r}: names are X-... tokens, values single-line text")
    return value


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class InboundArgs(_Args):
    """Carrier to Anyreach calls."""

    allowed_addresses: list[Annotated[str, AfterValidator(_address_or_cidr)]] = Field(
        default=[], max_length=50, description="Carrier IPs/CIDRs; empty: any"
    )
    allowed_numbers: PhoneNumberList = Field(default=[], description="Allowed callers, E.164; empty: any")
    auth_username: Text | None = Field(default=None, max_length=128)
    auth_password: SecretStr | None = Field(default=None, max_length=128)
    media_encryption: Encryption = "NONE"
    enable_noise_cancellation: bool = False


class OutboundArgs(_Args):
    """Anyreach to carrier calls."""

    address: Annotated[str, AfterValidator(_sip_address)] = Field(
        max_length=260, description="Carrier SIP host or IP, optional :port, no sip: prefix"
    )
    auth_username: Text = Field(max_length=128)
    auth_password: SecretStr = Field(max_length=128)
    transport: Literal["UDP", "TCP", "TLS"] = "UDP"
    media_encryption: Encryption = "NONE"
    headers: Annotated[dict[str, Annotated[str, Field(max_length=256)]], AfterValidator(_sip_headers)] = Field(
        default={}, max_length=20, description="Custom X-... SIP headers"
    )


def _inbound(args: InboundArgs) -> InboundConfig:
    return InboundConfig.model_validate(args.model_dump())


def _outbound(args: OutboundArgs) -> OutboundConfig:
    return OutboundConfig.model_validate(args.model_dump())


def trunks_tools(services: Services) -> dict[str, Any]:
    client = services.client

    async def list_trunks(
        name: Annotated[str | None, Field(max_length=128, description="Text the name contains")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Listing[TrunkView]:
        """List SIP trunks, oldest first: managed (bought numbers) and BYOC (your carrier)."""
        with api_errors(retry_safe=True):
            page = await client.trunks.list(name=name, limit=limit, cursor=cursor)
        warning = POSSIBLY_INCOMPLETE if page.possibly_incomplete else None
        return Listing(items=[TrunkView.of(t) for t in page.items], next_cursor=page.next_cursor, warning=warning)

    async def get_trunk(trunk_id: TrunkId) -> TrunkView:
        """Get one SIP trunk with its inbound and outbound settings."""
        with api_errors(retry_safe=True, not_found=TRUNK_NOT_FOUND):
            return TrunkView.of(await client.trunks.get(trunk_id))

    async def create_trunk(
        ctx: Context,
        name: Annotated[Text, Field(min_length=1, max_length=128)],
        inbound: InboundArgs | None = None,
        outbound: OutboundArgs | None = None,
    ) -> TrunkView:
        """Create a BYOC SIP trunk to your carrier, then register numbers on it."""

        async def create() -> TrunkView:
            with api_errors(retry_safe=False):
                trunk = await client.trunks.create(
                    name=name,
                    inbound_config=_inbound(inbound) if inbound else None,
                    outbound_config=_outbound(outbound) if outbound else None,
                )
            return TrunkView.of(trunk)

        arguments = {"name": name, "inbound": inbound, "outbound": outbound}
        return await services.write(ctx, "create_trunk", arguments, create, changed=[TRUNKS_URI])

    async def editable_trunk(trunk_id: str) -> tuple[Trunk, int]:
        with api_errors(retry_safe=True, not_found=TRUNK_NOT_FOUND):
            trunk = await client.trunks.get(trunk_id)
        if trunk.managed_account_id:
            raise ToolError(f"Trunk {trunk_id} is managed: {MANAGED}. Create a BYOC trunk with create_trunk instead.")
        with api_errors(retry_safe=True, not_found=TRUNK_NOT_FOUND):
            numbers = await client.phone_numbers.list(trunk_id=trunk_id, limit=100)
        return trunk, len(numbers.items)

    async def preview_update(args: Mapping[str, Any]) -> Preview:
        trunk, count = await editable_trunk(args["trunk_id"])
        removed = _sides(args["remove"])
        if removed & {side for side in ("inbound", "outbound") if args[side] is not None}:
            raise ToolError("Do not both replace and remove the same config.")
        sides = {"inbound": args["inbound"], "outbound": args["outbound"]}
        passwords = _passwords(args["inbound_password"], args["outbound_password"])
        _check_passwords(trunk, args, passwords)
        changes = trunk_changes(trunk, args["name"], sides, removed, resent=set(passwords))
        if not changes:
            raise ToolError("Nothing to change: give name, inbound, outbound or remove.")
        summary = (
            f"Update BYOC trunk {trunk.name!r} ({trunk.id}); {_numbers_phrase(count)} use it and their calls "
            "follow the new settings at once:\n- " + "\n- ".join(changes)
        )
        return Preview(summary, trunk.model_dump(mode="json"))

    update_gate = services.gatekeeper.gate(
        "update_trunk",
        preview_update,
        "trunk_id",
        "name",
        "inbound",
        "outbound",
        "remove",
        "inbound_password",
        "outbound_password",
    )

    async def update_trunk(
        ctx: Context,
        trunk_id: TrunkId,
        approval: Annotated[GateOutcome, Resolve(update_gate)],
        name: Annotated[Text | None, Field(min_length=1, max_length=128)] = None,
        inbound: InboundArgs | None = None,
        outbound: OutboundArgs | None = None,
        remove: Literal["inbound", "outbound", "both"] | None = None,
        inbound_password: KeptPassword = None,
        outbound_password: KeptPassword = None,
        confirmation_token: ConfirmationToken = None,
    ) -> Gated[TrunkView]:
        """Change a BYOC trunk; omitted parts stay (kept SIP auth needs its password). Affects live calls. Gated."""
        changes: dict[str, Any] = {f"{side}_config": None for side in _sides(remove)}
        if inbound:
            changes["inbound_config"] = _inbound(inbound)
        if outbound:
            changes["outbound_config"] = _outbound(outbound)

        passwords = _passwords(inbound_password, outbound_password)

        async def update() -> TrunkView:
            with api_errors(retry_safe=True, not_found=TRUNK_NOT_FOUND, refused=MANAGED):
                return TrunkView.of(await client.trunks.update(trunk_id, name=name, passwords=passwords, **changes))

        arguments = {
            "trunk_id": trunk_id,
            "name": name,
            "inbound": inbound,
            "outbound": outbound,
            "remove": remove,
            "inbound_password": inbound_password,
            "outbound_password": outbound_password,
        }
        return await services.gated(
            ctx, "update_trunk", arguments, approval, update, changed=[TRUNKS_URI, f"{TRUNKS_URI}/{trunk_id}"]
        )

    async def preview_delete(args: Mapping[str, Any]) -> Preview:
        trunk, count = await editable_trunk(args["trunk_id"])
        if count:
            raise ToolError(
                f"Trunk {trunk.id} still carries {_numbers_phrase(count).lower()}; delete them with "
                "delete_phone_number (or register them elsewhere) first."
            )
        return Preview(
            f"Delete BYOC trunk {trunk.name!r} ({trunk.id}). No numbers use it.",
            trunk.model_dump(mode="json"),
        )

    delete_gate = services.gatekeeper.gate("delete_trunk", preview_delete, "trunk_id")

    async def delete_trunk(
        ctx: Context,
        trunk_id: TrunkId,
        approval: Annotated[GateOutcome, Resolve(delete_gate)],
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
                await client.trunks.delete(trunk_id)
            return trunk_id

        return await services.gated(
            ctx,
            "delete_trunk",
            {"trunk_id": trunk_id},
            approval,
            delete,
            changed=[TRUNKS_URI, f"{TRUNKS_URI}/{trunk_id}"],
        )

    return {
        "list_trunks": list_trunks,
        "get_trunk": get_trunk,
        "create_trunk": create_trunk,
        "update_trunk": update_trunk,
        "delete_trunk": delete_trunk,
    }


def _passwords(inbound: SecretStr | None, outbound: SecretStr | None) -> dict[Side, SecretStr]:
    given: dict[Side, SecretStr | None] = {"inbound": inbound, "outbound": outbound}
    return {side: password for side, password in given.items() if password is not None}


def _check_passwords(trunk: Trunk, args: Mapping[str, Any], passwords: dict[Side, SecretStr]) -> None:
    """The update sends the whole trunk; refuse it before asking anyone if a kept password is missing."""
    removed = _sides(args["remove"])
    configs: dict[str, InboundConfig | OutboundConfig | Unset | None] = {
        side: None if side in removed else UNSET if args[side] is None else _config(side, args[side])
        for side in ("inbound", "outbound")
    }
    try:
        complete_trunk(
            trunk, inbound_config=configs["inbound"], outbound_config=configs["outbound"], passwords=passwords
        )
    except PasswordRequiredError as missing:
        needed = " and ".join(f"{side}_password" for side in missing.sides)
        raise ToolError(
            f"Updating sends the whole trunk, and it keeps SIP authentication on the {' and '.join(missing.sides)} "
            f"side, whose password the API never returns. Ask the user for it and give {needed} too "
            "(or replace that config). Nothing was changed."
        ) from None
    except ValueError as exc:
        raise ToolError(f"{exc}: leave that password out.") from None


def _config(side: str, args: BaseModel) -> InboundConfig | OutboundConfig:
    return _inbound(cast(InboundArgs, args)) if side == "inbound" else _outbound(cast(OutboundArgs, args))


def _sides(remove: str | None) -> set[str]:
    return {"inbound", "outbound"} if remove == "both" else {remove} if remove else set()


def _numbers_phrase(count: int) -> str:
    if count >= 100:
        return "100 or more numbers"
    return "1 number" if count == 1 else f"{count} numbers"
