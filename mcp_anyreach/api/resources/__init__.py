"""One namespace per API resource, each a thin typed layer over `HTTPCore.request`."""

from mcp_anyreach.api.resources.agents import Agents
from mcp_anyreach.api.resources.inbound_routing import InboundRouting
from mcp_anyreach.api.resources.managed_accounts import ManagedAccounts
from mcp_anyreach.api.resources.phone_numbers import PhoneNumbers
from mcp_anyreach.api.resources.trunks import Trunks

__all__ = ["Agents", "InboundRouting", "ManagedAccounts", "PhoneNumbers", "Trunks"]
