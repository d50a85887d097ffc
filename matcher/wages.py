"""BLS OEWS May 2025 wages and employment, with area -> state -> national fallback."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .errors import InputError
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["WageTable", "WageFigure", "LOUISVILLE", "NATIONAL"]

LOUISVILLE = "0031140"
NATIONAL = "0000000"
OEWS_RELEASE = "BLS OEWS May 2025"


@dataclass(frozen=True)
class WageFigure:
    soc_code: str            # SOC 2018 detailed code of the occupation
    oews_code: str           # the OEWS code that publishes it (itself, its broad group or an aggregate)
    area_code: str           # the area the figures come from (after fallback)
    area_name: str
    requested_area: str
    level: str               # area, state or national
    annual_median: float | None
    annual_p25: float | None
    annual_p75: float | None
    hourly_median: float | None
    employment: int | None
    location_quotient: float | None
    topcoded: bool
    annual_p10: float | None = None
    release: str = OEWS_RELEASE
    requested_area_name: str = ""
    employment_area_name: str = ""   # employment and LQ are the requested area's only ('' when unpublished)

    @property
    def found(self) -> bool:
        return self.annual_median is not None


class WageTable:
    """Look up OEWS figures for an O*NET or SOC code in an area; falls back to the area's state,
    then to the national figures, and says which level was used."""

    def __init__(self, taxonomy: Taxonomy | None = None):
        self.taxonomy = taxonomy or load_taxonomy()

    @cached_property
    def _wages(self) -> tuple:
        """(sorted ``b"area|soc"`` keys, figures as float64 rows with NaN for unpublished, topcoded
        flags): compact arrays (about 15 MB for the 224,000 rows; a dict of tuples took 110 MB)."""
        cols = ["annual_median", "annual_p25", "annual_p75", "hourly_median", "employment", "location_quotient",
                "annual_p10"]
        df = pd.read_csv(self.taxonomy.root / "oews-2025" / "wages.csv.gz",
                         usecols=["area_code", "soc_code", "annual_topcoded", *cols],
                         dtype={"area_code": str, "soc_code": str, "annual_topcoded": str, **{c: float for c in cols}},
                         keep_default_na=True)
        keys = (df["area_code"] + "|" + df["soc_code"]).to_numpy().astype("S")
        order = np.argsort(keys, kind="stable")
        return keys[order], df[cols].to_numpy(np.float64)[order], (df["annual_topcoded"] == "Y").to_numpy()[order]

    def _row(self, area: str, oews: str) -> tuple | None:
        """(median, p25, p75, hourly, employment, LQ, p10, topcoded) with None where unpublished."""
        keys, vals, top = self._wages
        key = f"{area}|{oews}".encode()
        i = int(np.searchsorted(keys, key))
        if i >= len(keys) or keys[i] != key:
            return None
        return (*(None if math.isnan(v) else v for v in vals[i].tolist()), bool(top[i]))

    @cached_property
    def areas(self) -> pd.DataFrame:
        return pd.read_csv(self.taxonomy.root / "oews-2025" / "areas.csv", dtype=str,
                           keep_default_na=False).set_index("area_code", drop=False)

    @cached_property
    def _oews_code(self) -> dict[str, str]:
        occ = self.taxonomy.occupations
        m = dict(zip(occ["soc_code"], occ["oews_code"]))
        m.update(zip(occ["onet_code"], occ["oews_code"]))
        return m

    @cached_property
    def _area_info(self) -> dict[str, tuple[str, str, str]]:
        a = self.areas
        return {c: (n, t, f) for c, n, t, f in zip(a["area_code"], a["area_name"], a["area_type"], a["state_fips"])}

    def area_name(self, area: str) -> str:
        return self._area_info.get(area, ("", "", ""))[0]

    def check_area(self, area: str) -> str:
        area = str(area).strip().zfill(7)
        if area not in self._area_info:
            raise InputError(f"unknown OEWS area code {area!r}; e.g. {LOUISVILLE} (Louisville/Jefferson County, "
                             f"KY-IN), 2100000 (Kentucky), {NATIONAL} (national)")
        return area

    def state_area(self, area: str) -> str:
        fips = self._area_info.get(area, ("", "", ""))[2]
        return f"{fips}00000" if fips and fips != "00" else NATIONAL

    def lookup(self, code: str, area: str = LOUISVILLE) -> WageFigure:
        from ._util import instance_cache

        cache = instance_cache(self, "_lookup_cache", "wage_figures")
        key = (code, area)
        if key not in cache:
            cache[key] = self._lookup(code, area)
        return cache[key]

    def _lookup(self, code: str, area: str) -> WageFigure:
        area = self.check_area(area)
        oews = self._oews_code.get(code, code[:7]) if code != "00-0000" else code
        chain = [(area, "area")]
        if self._area_info[area][1] == "M":
            chain.append((self.state_area(area), "state"))
        if area != NATIONAL:
            chain.append((NATIONAL, "national"))
        # employment and LQ describe local demand: only the requested area's figures, never a fallback's
        local = self._row(area, oews) if oews else None
        emp, lq = (local[4], local[5]) if local else (None, None)
        emp = int(emp) if emp is not None else None
        names = dict(requested_area_name=self.area_name(area),
                     employment_area_name=self.area_name(area) if emp is not None else "")
        for a, level in chain:
            row = self._row(a, oews) if oews else None
            if row and row[0] is not None:
                med, p25, p75, hourly, _emp, _lq, p10, top = row
                return WageFigure(code[:7], oews, a, self.area_name(a), area, level if a != area else "area",
                                  med, p25, p75, hourly, emp, lq if emp is not None else None, top, p10, **names)
        return WageFigure(code[:7], oews, "", "", area, "none", None, None, None, None, emp, lq, False, None, **names)

    def area_state_fips(self, area: str) -> str:
        return self._area_info.get(area, ("", "", ""))[2]

    @cached_property
    def _oews_titles(self) -> dict[str, str]:
        df = pd.read_csv(self.taxonomy.root / "oews-2025" / "occupations.csv", dtype=str, keep_default_na=False)
        return dict(zip(df["soc_code"], df["soc_title"]))

    def oews_title(self, oews_code: str) -> str:
        """OEWS's title of one of its codes (detailed codes and aggregates such as 25-9045)."""
        return self._oews_titles.get(oews_code, "")

    def all_occupations(self, area: str = LOUISVILLE) -> WageFigure:
        return self.lookup("00-0000", area)
