"""Where a client lives: ZIP -> state and county (the ``zipcodes`` package's USPS-based table) ->
OEWS area (``taxonomies/geo/counties.csv``, a sourced county-to-OEWS-area table for the states
with licensing data), and the checks that keep a state's licences and an area's wages together."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from .errors import InputError
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["Place", "Geography", "US_STATE_FIPS"]

# state postal code -> FIPS code (the states and DC)
US_STATE_FIPS = {
    "AL": "01", "AK": "02", "AZ": "04", "AR": "05", "CA": "06", "CO": "08", "CT": "09", "DE": "10", "DC": "11",
    "FL": "12", "GA": "13", "HI": "15", "ID": "16", "IL": "17", "IN": "18", "IA": "19", "KS": "20", "KY": "21",
    "LA": "22", "ME": "23", "MD": "24", "MA": "25", "MI": "26", "MN": "27", "MS": "28", "MO": "29", "MT": "30",
    "NE": "31", "NV": "32", "NH": "33", "NJ": "34", "NM": "35", "NY": "36", "NC": "37", "ND": "38", "OH": "39",
    "OK": "40", "OR": "41", "PA": "42", "RI": "44", "SC": "45", "SD": "46", "TN": "47", "TX": "48", "UT": "49",
    "VT": "50", "VA": "51", "WA": "53", "WV": "54", "WI": "55", "WY": "56", "PR": "72",
}
_FIPS_STATE = {v: k for k, v in US_STATE_FIPS.items()}


@dataclass(frozen=True)
class Place:
    zip_code: str
    state: str
    county: str
    county_fips: str
    oews_area: str            # '' when the county is not in the table
    oews_area_name: str
    source: str               # where the area assignment comes from


class Geography:
    """ZIP and OEWS-area facts for the states the project has data for."""

    def __init__(self, taxonomy: Taxonomy | None = None):
        self.taxonomy = taxonomy or load_taxonomy()

    @cached_property
    def counties(self) -> pd.DataFrame:
        path = self.taxonomy.root / "geo" / "counties.csv"
        if not path.exists():
            return pd.DataFrame(columns=["state", "county_fips", "county_name", "oews_area_code", "oews_area_name",
                                         "confirmed", "source_url", "as_of", "as_of_kind", "note"])
        return pd.read_csv(path, dtype=str, keep_default_na=False)

    @staticmethod
    def _county_key(name: str) -> str:
        """'La Porte County' and 'LaPorte County', 'Saint Joseph' and 'St. Joseph' compare equal."""
        k = re.sub(r"[^a-z]", "", str(name).casefold().replace("saint", "st"))
        return k[:-6] if k.endswith("county") else k

    @cached_property
    def _county_area(self) -> dict[tuple[str, str], tuple[str, str, str, str]]:
        """(state, county key) -> (FIPS, OEWS area, area name, source).  Rows whose area assignment is
        not confirmed keep the county but no area (callers fall back to the state's figures)."""
        c = self.counties
        out = {}
        for s, n, f, a, an, u, conf in zip(c["state"], c["county_name"], c["county_fips"], c["oews_area_code"],
                                           c["oews_area_name"], c["source_url"], c["confirmed"]):
            out[(s, self._county_key(n))] = (f, a, an, u) if conf in ("yes", "partial") else (f, "", "", u)
        return out

    def _lookup(self, z: str) -> tuple[str, str, float | None, float | None] | None:
        """(state, county, latitude, longitude) of a ZIP code, None when there is no such ZIP.
        Looked up one ZIP at a time (``zipcodes.list_all()`` would hold 42,000 dicts, ~95 MB)."""
        from ._util import instance_cache, to_float

        cache = instance_cache(self, "_zip_cache", "zips")
        if z not in cache:
            import zipcodes

            hits = zipcodes.matching(z) if re.fullmatch(r"\d{5}", z) else []
            if hits:
                h = hits[0]
                cache[z] = (h.get("state", ""), h.get("county", ""), to_float(h.get("lat")), to_float(h.get("long")))
            else:
                cache[z] = None
        return cache[z]

    def coordinates(self, zip_code: str) -> tuple[float, float] | None:
        """(latitude, longitude) of a ZIP code's centre, None when unknown."""
        h = self._lookup(str(zip_code).strip())
        return (h[2], h[3]) if h and h[2] is not None and h[3] is not None else None

    def is_zip(self, zip_code: str) -> bool:
        """True for a real 5-digit US ZIP code (the ``zipcodes`` data)."""
        z = str(zip_code).strip()
        return bool(re.fullmatch(r"\d{5}", z)) and self._lookup(z) is not None

    def locate(self, zip_code: str) -> Place:
        """The state, county and OEWS area of a 5-digit US ZIP code; InputError if it is not one."""
        z = str(zip_code).strip()
        if not re.fullmatch(r"\d{5}", z):
            raise InputError(f"ZIP code must be 5 digits (got {zip_code!r})")
        h = self._lookup(z)
        if h is None:
            raise InputError(f"unknown US ZIP code {z!r}")
        state, county = h[0], h[1]
        fips, area, area_name, src = self._county_area.get((state, self._county_key(county)), ("", "", "", ""))
        return Place(z, state, county, fips, area, area_name, src)

    @staticmethod
    def area_states(area_code: str, area_name: str, state_fips: str) -> set[str]:
        """The states an OEWS area lies in: from its name's suffix (', KY-IN') or its state FIPS.
        The national area lies in every state."""
        if area_code == "0000000":
            return set(US_STATE_FIPS)
        m = re.search(r",\s*([A-Z]{2}(?:-[A-Z]{2})*)\s*$", area_name or "")
        if m:
            return set(m.group(1).split("-"))
        st = _FIPS_STATE.get(state_fips)
        return {st} if st else set()
