"""A plan's trunk steps: trunks created, updated side by side (the document's fields laid over each side, sent
whole with every password the update needs) and deleted, and the refusals planning owes before any of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcp_anyreach.api import InboundConfig, OutboundConfig, Trunk
from mcp_anyreach.changes.actions import (
    SECRET_PREFIX,
    CreateTrunk,
    DeleteTrunk,
    Side,
    UpdateTrunk,
    password_variable,
)
from mcp_anyreach.changes.desired import TrunkTarget
from mcp_anyreach.changes.draft import Draft
from mcp_anyreach.changes.model import SLOTS, Keep, NumberTarget
from mcp_anyreach.changes.snapshot import Snapshot
from mcp_anyreach.domain.networks import too_wide
from mcp_anyreach.domain.refusal import Refusal
from mcp_anyreach.domain.text import listed, named, shown

CONFIG_FIELDS = {
    "inbound": (
        "allowed_addresses",
        "allowed_numbers",
        "auth_username",
        "media_encryption",
        "enable_noise_cancellation",
    ),
    "outbound": ("address", "auth_username", "transport", "media_encryption", "headers"),
}
# What the service assumes for a field a config leaves out: the API models' own defaults.
CONFIG_DEFAULTS: dict[str, dict[str, Any]] = {
    side: {
        name: field.get_default(call_default_factory=True)
        for name, field in model.model_fields.items()
        if not field.is_required()
    }
    for side, model in (("inbound", InboundConfig), ("outbound", OutboundConfig))
}


def plan_trunks(trunks: Sequence[TrunkTarget], snapshot: Snapshot, draft: Draft) -> None:
    for target in trunks:
        if target.trunk_id is None:
            configs: dict[Side, dict[str, Any]] = {
                side: config for side, config in target.configs.items() if config is not None
            }
            create = CreateTrunk(target.name, configs)
            settings = [
                f"{side}: {_config_diff(None, _comparable(side, config), password_variable(config))}"
                for side, config in configs.items()
            ]
            draft.add("trunks", create, create.describe(settings))
            # Created without an inbound config, a trunk has no authentication and no address list either.
            _warn_wide(target.name, target.configs.get("inbound") or {}, draft)
            continue
        trunk = snapshot.trunks[target.trunk_id]
        if not target.present:
            delete = DeleteTrunk(trunk.id)
            draft.add("trunk_deletes", delete, delete.describe(named(trunk.name)), subject=trunk.name)
            continue
        _plan_trunk_update(trunk, target.configs, snapshot, draft)


def _plan_trunk_update(
    trunk: Trunk, configs: Mapping[Side, dict[str, Any] | None], snapshot: Snapshot, draft: Draft
) -> None:
    """The document's fields laid over each side (one left out keeps its value), sent whole with every password
    the update needs: the API never returns one, and the update sends the whole trunk."""
    changes: dict[Side, dict[str, Any] | None] = {}
    sentences: list[str] = []
    resent: dict[Side, dict[str, Any]] = {}
    for side, given in configs.items():
        current = trunk.inbound_config if side == "inbound" else trunk.outbound_config
        now = _comparable(side, current.model_dump(mode="json") if current else None)
        if given is None:
            if current is not None:
                changes[side] = None
                sentences.append(f"REMOVE the {side} config")
            continue
        wanted = _merged(side, current, given)
        differs = now != _comparable(side, wanted)
        needs_password = "auth_password" in wanted and not (current is not None and current.password_set)
        if not (differs or needs_password):
            if "auth_password" in wanted:
                resent[side] = wanted
            continue
        if (
            "auth_password" not in wanted
            and wanted.get("auth_username")
            and (current is None or current.auth_username != wanted.get("auth_username"))
        ):
            raise Refusal(
                f"Trunk {named(trunk.name)!r}: the {side} auth_username changes, so the API needs its password "
                f"again; add auth_password: {{env: {SECRET_PREFIX}NAME}}."
            )
        changes[side] = wanted
        sentences.append(f"{side}: " + _config_diff(now, _comparable(side, wanted), password_variable(wanted)))
        if side == "inbound":
            _warn_wide(named(trunk.name), wanted, draft)
    if not changes:
        return
    for side, wanted in resent.items():
        changes[side] = wanted
        sentences.append(f"{side}: password sent again, from ${password_variable(wanted)}")
    _check_kept_passwords(trunk, changes)
    update = UpdateTrunk(trunk.id, changes)
    draft.add("trunks", update, update.describe(named(trunk.name), sentences), subject=trunk.name)
    count = len(snapshot.numbers_on(trunk.id))
    draft.impact.append(f"Trunk {named(trunk.name)!r} changes; the calls of its {count} numbers follow at once.")


def _merged(side: str, current: InboundConfig | OutboundConfig | None, given: Mapping[str, Any]) -> dict[str, Any]:
    kept = current.model_dump(mode="json", include=set(CONFIG_FIELDS[side])) if current is not None else {}
    return {name: value for name, value in {**kept, **given}.items() if value is not None}


def _check_kept_passwords(trunk: Trunk, changes: Mapping[Side, Mapping[str, Any] | None]) -> None:
    """Refuse at planning what the client would refuse at applying: a kept authentication without its password."""
    missing: list[str] = []
    for side in SLOTS:
        current = trunk.inbound_config if side == "inbound" else trunk.outbound_config
        sent = changes.get(side)
        if side not in changes:
            if current is not None and current.auth_username:
                missing.append(side)
        elif sent is not None and sent.get("auth_username") and "auth_password" not in sent:
            missing.append(side)
    if missing:
        raise Refusal(
            f"Trunk {named(trunk.name)!r} changes, and the update sends the whole trunk, which keeps SIP "
            f"authentication on the {' and '.join(missing)} side, whose password the API never returns: add "
            f"auth_password: {{env: {SECRET_PREFIX}NAME}} under {' and '.join(missing)}. Nothing was planned."
        )


def _comparable(side: str, config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if config is None:
        return None
    defaults = CONFIG_DEFAULTS[side]
    picked = {name: config.get(name, defaults.get(name)) for name in CONFIG_FIELDS[side]}
    for name in ("allowed_addresses", "allowed_numbers"):
        if name in picked:
            picked[name] = sorted(picked[name] or [])
    return picked


def _config_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, password: str | None) -> str:
    if before is None:
        given = [f"{name} {shown(value)}" for name, value in (after or {}).items() if value and value != "NONE"]
        return ", ".join([*given, *([f"password from ${password}"] if password else [])])
    changed = [
        f"{name} {shown(before.get(name))} -> {shown(value)}"
        for name, value in (after or {}).items()
        if before.get(name) != value
    ]
    if password:
        changed.append(f"password sent again, from ${password}")
    return ", ".join(changed)


def _warn_wide(name: str, inbound: Mapping[str, Any] | None, draft: Draft) -> None:
    if inbound is None:
        return
    wide = too_wide(inbound.get("allowed_addresses") or [])
    if wide and not inbound.get("auth_username"):
        draft.impact.append(f"WARNING: trunk {name!r} would accept calls without authentication from {wide}.")
    elif wide:
        draft.impact.append(f"Trunk {name!r} would accept calls from {wide}.")


def check_pruned_trunks(trunks: Sequence[TrunkTarget], numbers: Mapping[str, NumberTarget], snapshot: Snapshot) -> None:
    for target in trunks:
        if target.present or target.trunk_id is None:
            continue
        staying = [
            number.phone_number
            for number in snapshot.numbers_on(target.trunk_id)
            if (wanted := numbers.get(number.phone_number)) is None
            or (wanted.present and (isinstance(wanted.trunk, Keep) or wanted.trunk == target.trunk_id))
        ]
        if staying:
            raise Refusal(
                f"Trunk {target.name!r} is pruned, yet {len(staying)} numbers stay on it ({listed(staying)}); "
                "move or delete them in the document too."
            )
