"""The deterministic pool of numbers a managed account offers: real area codes, valid numbers.

Mostly NANP (US, CA), plus a few local numbers in GB and AU so that searches by any ISO country are real.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field

NumberType = Literal["local", "toll_free"]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code, e.g. US, GB.")]


@dataclass(frozen=True)
class _AreaCode:
    code: int
    country: str
    region: str
    city: str
    postal_code: str
    latitude: float
    longitude: float
    rate_center: str
    lata: str | None


_AREA_CODES = (
    _AreaCode(212, "US", "NY", "New York", "10001", 40.7506, -73.9972, "NWYRCYZN01", "132"),
    _AreaCode(415, "US", "CA", "San Francisco", "94105", 37.7898, -122.3942, "SNFC CNTRL", "722"),
    _AreaCode(310, "US", "CA", "Santa Monica", "90401", 34.0195, -118.4912, "SNMN SNMN", "730"),
    _AreaCode(312, "US", "IL", "Chicago", "60601", 41.8858, -87.6229, "CHICAGO", "358"),
    _AreaCode(512, "US", "TX", "Austin", "78701", 30.2711, -97.7437, "AUSTIN", "558"),
    _AreaCode(206, "US", "WA", "Seattle", "98101", 47.6114, -122.3305, "SEATTLE", "674"),
    _AreaCode(617, "US", "MA", "Boston", "02108", 42.3576, -71.0649, "BOSTON", "128"),
    _AreaCode(305, "US", "FL", "Miami", "33131", 25.7663, -80.1917, "MIAMI", "460"),
    _AreaCode(404, "US", "GA", "Atlanta", "30303", 33.7537, -84.3863, "ATLANTA", "438"),
    _AreaCode(303, "US", "CO", "Denver", "80202", 39.7525, -104.9995, "DENVER", "656"),
    _AreaCode(416, "CA", "ON", "Toronto", "M5H 2N2", 43.6511, -79.3832, "TORONTO", None),
    _AreaCode(613, "CA", "ON", "Ottawa", "K1P 1J1", 45.4215, -75.6972, "OTTAWA HULL", None),
    _AreaCode(604, "CA", "BC", "Vancouver", "V6B 1A1", 49.2827, -123.1207, "VANCOUVER", None),
    _AreaCode(514, "CA", "QC", "Montreal", "H2Y 1C6", 45.5017, -73.5673, "MONTREAL", None),
    _AreaCode(403, "CA", "AB", "Calgary", "T2P 1J9", 51.0447, -114.0719, "CALGARY", None),
)
_INTERNATIONAL_AREA_CODES = (
    _AreaCode(20, "GB", "ENG", "London", "EC1A 1BB", 51.5154, -0.0984, "London", None),
    _AreaCode(161, "GB", "ENG", "Manchester", "M1 1AE", 53.4808, -2.2426, "Manchester", None),
    _AreaCode(2, "AU", "NSW", "Sydney", "2000", -33.8688, 151.2093, "Sydney", None),
    _AreaCode(3, "AU", "VIC", "Melbourne", "3000", -37.8136, 144.9631, "Melbourne", None),
)
_INTERNATIONAL_PER_AREA_CODE = 10
_TOLL_FREE_PREFIXES = (800, 833, 844, 855, 866, 877, 888)
_LOCAL_PER_AREA_CODE = 40
_TOLL_FREE_PER_PREFIX = 12


class Capabilities(BaseModel):
    voice: bool
    sms: bool
    mms: bool


class AvailableNumber(BaseModel):
    model_config = ConfigDict(frozen=True)

    phone_number: str
    friendly_name: str
    locality: str | None
    region: str | None
    postal_code: str | None
    iso_country: Country
    rate_center: str | None
    lata: str | None
    latitude: float | None
    longitude: float | None
    phone_number_type: NumberType
    capabilities: Capabilities
    address_requirements: Literal["none", "any", "local", "foreign"]


class NumberSearch(BaseModel):
    """Every filter is optional except the country; booleans match the capability exactly."""

    area_code: str | None = Field(
        default=None, pattern=r"^\d{1,5}$", description="Leading digits of the national number."
    )
    country_code: Country = "US"
    phone_number_type: NumberType | None = None
    voice_enabled: bool | None = None
    sms_enabled: bool | None = None
    mms_enabled: bool | None = None
    in_region: str | None = Field(default=None, max_length=8, description="State or province code, e.g. CA, NY, ON.")
    in_postal_code: str | None = Field(default=None, max_length=10)
    limit: int = Field(default=20, ge=1, le=100)

    def matches(self, number: AvailableNumber) -> bool:
        wanted = (
            (self.country_code, number.iso_country),
            (self.area_code, _national(number)[: len(self.area_code or "")]),
            (self.phone_number_type, number.phone_number_type),
            (self.voice_enabled, number.capabilities.voice),
            (self.sms_enabled, number.capabilities.sms),
            (self.mms_enabled, number.capabilities.mms),
            (_fold(self.in_region), _fold(number.region)),
            (_fold(self.in_postal_code), _fold(number.postal_code)),
        )
        return all(expected is None or expected == actual for expected, actual in wanted)


def _national(number: AvailableNumber) -> str:
    return number.phone_number[1 + len(str(phonenumbers.country_code_for_region(number.iso_country))) :]


def _fold(text: str | None) -> str | None:
    return None if text is None else text.replace(" ", "").upper()


def _digits(seed: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(seed.encode()).digest()
    return (
        int.from_bytes(digest[:4], "big"),
        int.from_bytes(digest[4:8], "big"),
        int.from_bytes(digest[8:12], "big"),
    )


def _candidates(prefix: int, count: int, wanted_type: int) -> Iterator[tuple[phonenumbers.PhoneNumber, int]]:
    """Deterministic valid North American numbers under ``prefix``, with a hash value to derive capabilities from."""
    return _generated(
        str(prefix), count, wanted_type, lambda exchange, line: f"+1{prefix}{200 + exchange % 800}{line % 10_000:04d}"
    )


def _international_candidates(area: _AreaCode) -> Iterator[tuple[phonenumbers.PhoneNumber, int]]:
    """Valid fixed-line numbers under a GB or AU area code (national numbers of ten and nine digits)."""
    dialling, prefix = phonenumbers.country_code_for_region(area.country), str(area.code)
    digits = (10 if area.country == "GB" else 9) - len(prefix)
    return _generated(
        f"{area.country}{prefix}",
        _INTERNATIONAL_PER_AREA_CODE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        lambda high, low: f"+{dialling}{prefix}{(high * 10_000 + low) % 10**digits:0{digits}d}",
    )


def _generated(
    seed: str, count: int, wanted_type: int, text_of: Callable[[int, int], str]
) -> Iterator[tuple[phonenumbers.PhoneNumber, int]]:
    """`count` distinct numbers of `wanted_type`, each written by `text_of` from two hash values of `seed`."""
    seen: set[str] = set()
    attempt = 0
    while len(seen) < count:
        high, low, traits = _digits(f"{seed}-{attempt}")
        attempt += 1
        text = text_of(high, low)
        parsed = phonenumbers.parse(text, None)
        if text in seen or not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) != wanted_type:
            continue
        seen.add(text)
        yield parsed, traits


def _international_numbers(area: _AreaCode) -> Iterator[AvailableNumber]:
    for parsed, traits in _international_candidates(area):
        yield AvailableNumber(
            phone_number=_e164(parsed),
            friendly_name=_friendly(parsed),
            locality=area.city,
            region=area.region,
            postal_code=area.postal_code,
            iso_country=area.country,
            rate_center=area.rate_center,
            lata=None,
            latitude=area.latitude,
            longitude=area.longitude,
            phone_number_type="local",
            capabilities=Capabilities(voice=True, sms=area.country == "GB" and traits % 2 == 0, mms=False),
            address_requirements="any" if area.country == "GB" else "local",
        )


def _locality(parsed: phonenumbers.PhoneNumber, area: _AreaCode) -> str:
    # the geocoder's data takes most of a second to load; only a search needs it
    from phonenumbers import geocoder

    description = geocoder.description_for_number(parsed, "en")
    return description.split(", ")[0] if ", " in description else area.city


def _friendly(parsed: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def _e164(parsed: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _local_numbers(area: _AreaCode) -> Iterator[AvailableNumber]:
    fixed_or_mobile = phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE
    for parsed, traits in _candidates(area.code, _LOCAL_PER_AREA_CODE, fixed_or_mobile):
        sms = traits % 5 != 0
        yield AvailableNumber(
            phone_number=_e164(parsed),
            friendly_name=_friendly(parsed),
            locality=_locality(parsed, area),
            region=area.region,
            postal_code=area.postal_code,
            iso_country=area.country,
            rate_center=area.rate_center,
            lata=area.lata,
            latitude=area.latitude,
            longitude=area.longitude,
            phone_number_type="local",
            capabilities=Capabilities(
                voice=traits % 13 != 0, sms=sms, mms=sms and area.country == "US" and traits % 3 != 0
            ),
            address_requirements="none" if area.country == "US" else "local",
        )


def _toll_free_numbers(prefix: int) -> Iterator[AvailableNumber]:
    for parsed, traits in _candidates(prefix, _TOLL_FREE_PER_PREFIX, phonenumbers.PhoneNumberType.TOLL_FREE):
        yield AvailableNumber(
            phone_number=_e164(parsed),
            friendly_name=_friendly(parsed),
            locality=None,
            region=None,
            postal_code=None,
            iso_country="US",
            rate_center=None,
            lata=None,
            latitude=None,
            longitude=None,
            phone_number_type="toll_free",
            capabilities=Capabilities(voice=True, sms=traits % 2 == 0, mms=False),
            address_requirements="none",
        )


@cache
def available_numbers() -> dict[str, AvailableNumber]:
    """The whole pool keyed by E.164, in a stable order."""
    numbers = [number for area in _AREA_CODES for number in _local_numbers(area)]
    numbers += [number for prefix in _TOLL_FREE_PREFIXES for number in _toll_free_numbers(prefix)]
    numbers += [number for area in _INTERNATIONAL_AREA_CODES for number in _international_numbers(area)]
    return {number.phone_number: number for number in numbers}
