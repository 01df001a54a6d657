"""Annotated string types that validate what the API accepts; each rejects injection-prone input."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, Field, SecretStr

_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_SIP_USERNAME = re.compile(r"[A-Za-z0-9._~+-]{1,64}")
_SIP_HEADER_NAME = re.compile(r"X-[A-Za-z0-9-]{1,64}")


def normalize_e164(value: str) -> str:
    """Return the E.164 form of ``value`` or raise ValueError naming why it is not a phone number."""
    candidate = value.strip()
    if not candidate.startswith("+"):
        raise ValueError(f"{value!r} is not in E.164 form; write it with + and the country code, e.g. +14155550123")
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{value!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid phone number for its country code")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _ip_address_or_network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IP address or CIDR network") from exc


def _is_host_name(host: str) -> bool:
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _is_host_name(host)
    return True


def _split_port(address: str) -> tuple[str, str | None]:
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        return host, rest.removeprefix(":") if rest else None
    if address.count(":") == 1:
        host, _, port = address.partition(":")
        return host, port
    return address, None


def _sip_address(value: str) -> str:
    if value.lower().startswith(("sip:", "sips:")):
        raise ValueError("write the address without the sip: prefix, e.g. sip.example.com:5060")
    host, port = _split_port(value)
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise ValueError(f"{value!r} has an invalid port; use 1-65535")
    if not _is_host(host):
        raise ValueError(f"{value!r} is not a host name or IP address with an optional :port")
    return value


def _sip_username(value: str) -> str:
    if not _SIP_USERNAME.fullmatch(value):
        raise ValueError("a SIP username is 1-64 characters of letters, digits and . _ ~ + -")
    return value


def _sip_header_name(value: str) -> str:
    if not _SIP_HEADER_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a custom SIP header name; names start with X- then letters, digits, -")
    return value


def _no_control_characters(value: str) -> str:
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("control characters (including CR and LF) are not allowed")
    return value


def _password(value: SecretStr) -> SecretStr:
    secret = value.get_secret_value()
    if not 1 <= len(secret) <= 128:
        raise ValueError("a password is 1-128 characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in secret):
        raise ValueError("control characters are not allowed in a password")
    return value


E164 = Annotated[str, AfterValidator(normalize_e164), Field(examples=["+14155550123"])]
IpAddressOrNetwork = Annotated[str, AfterValidator(_ip_address_or_network), Field(examples=["203.0.113.0/24"])]
SipAddress = Annotated[str, Field(max_length=260, examples=["sip.example.com:5060"]), AfterValidator(_sip_address)]
SipUsername = Annotated[str, AfterValidator(_sip_username)]
SipHeaderName = Annotated[str, AfterValidator(_sip_header_name)]
SipHeaderValue = Annotated[str, Field(max_length=1024), AfterValidator(_no_control_characters)]
Password = Annotated[SecretStr, AfterValidator(_password)]
Name = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_no_control_characters)]
