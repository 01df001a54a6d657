"""What a trunk side becomes when update_trunk names some of its fields: those change, the rest stay.

The API's PUT takes the whole trunk, so a side given in part is completed from the current one before it
is shown or sent; a model that names one list must not silently drop the side's authentication or reset
its encryption to the defaults.
"""

from __future__ import annotations

from typing import TypeVar, cast

from mcp_anyreach.api import InboundConfig, OutboundConfig
from mcp_anyreach.domain.args import InboundArgs, OutboundArgs
from mcp_anyreach.domain.refusal import Refusal

SideArgs = TypeVar("SideArgs", InboundArgs, OutboundArgs)
NEW_OUTBOUND_NEEDS = ("address", "auth_username", "auth_password")


def merged_side(side: str, current: InboundConfig | OutboundConfig | None, given: SideArgs) -> SideArgs:
    """`given` over `current`: a field given replaces its value (a list the whole list), one not given keeps it.

    The current password is never known (the API does not return it), so it is never copied: a side that
    keeps authentication needs it again (update_trunk's `<side>_password`).
    """
    if current is None:
        check_new_side(side, given)
        return given
    kept = {
        name: getattr(current, name)
        for name in type(given).model_fields
        if name not in given.model_fields_set and name != "auth_password" and hasattr(current, name)
    }
    return given.model_copy(update=kept)


def check_new_side(side: str, given: InboundArgs | OutboundArgs) -> None:
    if not isinstance(given, OutboundArgs):
        return
    missing = [name for name in NEW_OUTBOUND_NEEDS if cast(object, getattr(given, name)) is None]
    if missing:
        raise Refusal(
            f"The trunk has no {side} config yet, and the API needs address, auth_username and auth_password "
            f"for a new one: give {', '.join(f'{side}.{name}' for name in missing)} too. Nothing was changed."
        )
