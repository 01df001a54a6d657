"""What an update_trunk call changes, field by field, in words a person can approve.

A confirmation that says only "replace the inbound config" could hide that authentication is dropped
or the trunk is opened to much of the Internet; the summary names each change, lists every address
added or removed (nothing dangerous may hide behind "..."), and warns about those.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from pydantic import BaseModel

from mcp_anyreach.api import Trunk
from mcp_anyreach.domain.networks import too_wide
from mcp_anyreach.domain.records import TrunkView
from mcp_anyreach.domain.text import shown


def trunk_changes(
    trunk: Trunk,
    name: str | None,
    sides: dict[str, BaseModel | None],
    removed: set[str],
    *,
    passwords: Collection[str] = (),
) -> list[str]:
    """Sentences for each change; `sides` maps "inbound"/"outbound" to the side as it will be (or None).

    `passwords` names the sides whose password is given on its own (update_trunk's `<side>_password`): with
    other changes it is the current one sent again, since the update sends the whole trunk; alone, a rotation.
    A side whose fields all stay says nothing.
    """
    before = TrunkView.of(trunk)
    changes = [f"name {before.name!r} -> {name!r}"] if name and name != before.name else []
    for side in ("inbound", "outbound"):
        old = getattr(before, side)
        if side in removed:
            changes.append(f"REMOVE the {side} config ({side} calls over this trunk stop)")
        elif (new := sides.get(side)) is not None:
            changes += _config_changes(side, old, new)
    if changes:
        changes += [
            f"{side} password: sent again as given (the update sends the whole trunk; a different one replaces it)"
            for side in sorted(passwords)
        ]
    elif len(passwords) == 1:
        changes = [f"{side} password: replaced by the one given; nothing else changes" for side in passwords]
    else:
        changes = [
            f"{side} password: set to the one given (replaced unless it is the current one)"
            for side in sorted(passwords)
        ]
    return changes


def new_trunk_settings(sides: dict[str, BaseModel | None]) -> list[str]:
    """Sentences for a trunk about to be created with these configs, warning as an update would.

    A trunk without an inbound config has no authentication and no address list: the audit counts it as
    open to every address, so its creation is warned about too.
    """
    lines: list[str] = []
    for side in ("inbound", "outbound"):
        if (config := sides.get(side)) is not None:
            lines += _config_changes(side, None, config)
        else:
            lines.append(f"no {side} config")
    if sides.get("inbound") is None:
        lines += _inbound_warnings({}, authenticated=False)
    return lines


def _config_changes(side: str, old: BaseModel | None, new: BaseModel) -> list[str]:
    was: dict[str, Any] = old.model_dump() if old else {}
    will = new.model_dump(exclude={"auth_password"})
    if old is None:
        given = ", ".join(f"{field} {_show(value)}" for field, value in will.items() if _show(value) != "none")
        lines = [f"add the {side} config: {given}"]
    else:
        lines = [
            _change(side, field, was.get(field), value)
            for field, value in will.items()
            if _show(was.get(field)) != _show(value)
        ]
    password_given = getattr(new, "auth_password", None) is not None
    if password_given:
        lines.append(f"{side} password: {'replaced' if was.get('password_set') else 'set'}")
    elif was.get("password_set") and will.get("auth_username") != was.get("auth_username"):
        lines.append(f"{side} password: REMOVED")
    if side == "inbound" and lines:
        lines += _inbound_warnings(will, authenticated=bool(will.get("auth_username")))
    return lines


def _change(side: str, field: str, old: object, new: object) -> str:
    if (old is None or isinstance(old, list)) and isinstance(new, list):
        before = [shown(item) for item in cast(list[object], old or [])]
        after = [shown(item) for item in cast(list[object], new)]
        added = [f"+{item}" for item in after if item not in before]
        dropped = [f"-{item}" for item in before if item not in after]
        return f"{side} {field}: {' '.join(added + dropped) or 'reordered'}"
    return f"{side} {field}: {_show(cast(object, old))} -> {_show(new)}"


def _inbound_warnings(will: dict[str, Any], *, authenticated: bool) -> list[str]:
    wide = too_wide(will.get("allowed_addresses") or [])
    if wide is None:
        return []
    if not authenticated:
        return [f"WARNING: with no authentication, anyone at {wide} could send calls into this trunk"]
    return [f"WARNING: allowed_addresses admit {wide}"]


def _show(value: object) -> str:
    if value is None or value in ([], {}):
        return "none"
    if isinstance(value, list):
        return f"[{', '.join(shown(item) for item in cast(list[object], value))}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{shown(k)}: {shown(v)}" for k, v in cast(dict[object, object], value).items()) + "}"
    return shown(value)
