"""The resource URIs: what previews name as targets, results cite as sources, and notifications announce."""

from __future__ import annotations

INVENTORY_URI = "anyreach://inventory"
AGENTS_URI = "anyreach://agents"
NUMBERS_URI = "anyreach://phone-numbers"
TRUNKS_URI = "anyreach://trunks"
ROUTING_URI = "anyreach://inbound-routing-config"
SCHEMA_URI = "anyreach://schema/desired-state"
OPERATIONS_URI = "anyreach://schema/operations"
ORGANIZATIONS_URI = "anyreach://organizations"
# Lists: a write to one member is recorded against the member's own URI, not the list's.
COLLECTIONS = frozenset({INVENTORY_URI, NUMBERS_URI, TRUNKS_URI})


def number_uri(phone_number: str) -> str:
    return f"{NUMBERS_URI}/{phone_number}"


def trunk_uri(trunk_id: str) -> str:
    return f"{TRUNKS_URI}/{trunk_id}"


def organization_uri(org_id: str, uri: str) -> str:
    """Where a server of several organizations serves `uri` of one of them."""
    return f"{ORGANIZATIONS_URI}/{org_id}/{uri.removeprefix('anyreach://')}"
