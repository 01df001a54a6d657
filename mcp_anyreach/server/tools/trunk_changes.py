"""What an update_trunk call changes, field by field, in words a person can approve.

A confirmation that says only "replace the inbound config" could hide that authentication is dropped
or the trunk is opened to every address; the summary names each change and warns about those.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from pydantic import BaseModel

from mcp_anyreach.api import Trunk
from mcp_anyreach.server.views import TrunkView

OPEN_NETWORKS = {"0.0.0.0/0", "::/0"}


def trunk_changes(
    trunk: Trunk,
    name: str | None,
    sides: dict[str, BaseModel | None],
    removed: set[str],
    *,
    resent: Collection[str] = (),
) -> list[str]:
    """Sentences for each change; `sides` maps "inbound"/"outbound" to the new config args (or None).

    `resent` names the sides whose password is given again because the update sends the whole trunk.
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
        changes += [f"{side} password: sent again as given (it replaces the current one)" for side in sorted(resent)]
    return changes


def _config_changes(side: str, old: BaseModel | None, new: BaseModel) -> list[str]:
    was: dict[str, Any] = old.model_dump() if old else {}
    will = new.model_dump(exclude={"auth_password"})
    if old is None:
        given = ", ".join(f"{field} {_show(value)}" for field, value in will.items() if _show(value) != "none")
        lines = [f"add the {side} config: {given}"]
    else:
        lines = [
            f"{side} {field}: {_show(was.get(field))} -> {_show(value)}"
            for field, value in will.items()
            if _show(was.get(field)) != _show(value)
        ]
    password_given = getattr(new, "auth_password", None) is not None
    if password_given:
        lines.append(f"{side} password: {'replaced' if was.get('password_set') else 'set'}")
    elif was.get("password_set") and will.get("auth_username") != was.get("auth_username"):
        lines.append(f"{side} password: REMOVED")
    if side == "inbound":
        lines += _inbound_warnings(will, authenticated=bool(will.get("auth_username")))
    return lines or [f"{side} config: unchanged"]


def _inbound_warnings(will: dict[str, Any], *, authenticated: bool) -> list[str]:
    addresses = set(will.get("allowed_addresses") or [])
    if not authenticated and (not addresses or addresses & OPEN_NETWORKS):
        return ["WARNING: anyone who can reach Anyreach could send calls into this trunk (no auth, no address limit)"]
    if addresses & OPEN_NETWORKS:
        return ["WARNING: allowed_addresses admits every address"]
    return []


def _show(value: object) -> str:
    if value is None or value in ([], {}):
        return "none"
    if isinstance(value, list):
        items = [str(item) for item in cast(list[object], value)]
        return f"[{', '.join(items[:5])}{', ...' if len(items) > 5 else ''}]"
    return str(value)
