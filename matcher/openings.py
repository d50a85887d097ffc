"""Employer openings: schema, loaders with column mapping (including LinkedIn-style exports),
title normalization onto O*NET-SOC with the same engine as clients, and ranking in both
directions (openings for a client, clients for an opening)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ._util import CACHE_LIMITS, BoundedCache, is_missing, to_float
from .errors import ConfigError, InputError
from .licensing import cefr_rank
from .settings import number_problems

__all__ = ["OPENING_FIELDS", "OpeningWeights", "OpeningMatch", "OpeningRanker", "load_openings", "prepare_openings",
           "ClientProfile"]

OPENING_FIELDS = ("opening_id", "employer", "title", "city", "state", "zip", "sector", "wage_min", "wage_max",
                  "wage_unit", "shift", "required_licenses", "certifications", "english_level",
                  "min_years_experience", "supports_relicensing", "tuition_support")
REQUIRED_OPENING_FIELDS = ("employer", "title")
# column names of other exports, per field (the LinkedIn job-postings export among them)
OPENING_SYNONYMS = {
    "opening_id": ["opening_id", "job_id", "id", "posting_id", "requisition_id"],
    "employer": ["employer", "company_name", "company", "organization", "employer_name"],
    "title": ["title", "job_title", "position", "posting_title"],
    "city": ["city", "location", "job_location"],
    "state": ["state", "job_state"],
    "zip": ["zip", "zipcode", "zip_code", "postal_code"],
    "sector": ["sector"],
    "wage_min": ["wage_min", "min_salary", "salary_min", "pay_min"],
    "wage_max": ["wage_max", "max_salary", "salary_max", "pay_max", "med_salary"],
    "wage_unit": ["wage_unit", "pay_period", "salary_unit"],
    "shift": ["shift", "schedule", "formatted_work_type"],
    "required_licenses": ["required_licenses", "licenses", "license_required"],
    "certifications": ["certifications", "certs"],
    "english_level": ["english_level", "english"],
    "min_years_experience": ["min_years_experience", "years_experience", "experience_years"],
    "supports_relicensing": ["supports_relicensing", "relicensing_support"],
    "tuition_support": ["tuition_support", "tuition_assistance"],
}
_UNIT = {"hour": "hour", "hourly": "hour", "hr": "hour", "year": "year", "yearly": "year", "annual": "year",
         "annually": "year", "month": "month", "monthly": "month", "week": "week", "weekly": "week"}
_HOURS = {"hour": 2080.0, "week": 52.0, "month": 12.0, "year": 1.0}


def load_openings(path_or_frame, mapping: Mapping[str, str] | None = None, sheet: str | None = None) -> pd.DataFrame:
    """Read an openings file (or take a DataFrame, not modified) into the opening schema.
    ``mapping`` maps source columns to fields; other columns are matched by known names.
    Missing required fields are all reported at once; rows the reader could not read are dropped
    (an opening, unlike a client, is not owed a row in the output)."""
    from .io import RESERVED_COLUMNS, ROW_ERROR, map_columns, open_table

    if isinstance(path_or_frame, pd.DataFrame):
        src = path_or_frame.copy()
    else:
        parts = list(open_table(path_or_frame, chunksize=None, sheet=sheet))
        src = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if ROW_ERROR in src.columns:
            src = src[src[ROW_ERROR] == ""]
        src = src.drop(columns=[c for c in RESERVED_COLUMNS if c in src.columns]).reset_index(drop=True)
    cols = map_columns(src.columns, OPENING_FIELDS, OPENING_SYNONYMS, REQUIRED_OPENING_FIELDS, mapping,
                       "opening field", "--openings-map")
    out = pd.DataFrame({f: (src[cols[f]].map(lambda v: "" if not isinstance(v, str) and is_missing(v)
                                             else str(v).strip()) if f in cols else "") for f in OPENING_FIELDS})
    if "opening_id" not in cols:
        out["opening_id"] = [f"OPN-{i + 1:05d}" for i in range(len(out))]
    # "Louisville, KY" in a location column: split city and state
    loc = out["city"].str.extract(r"^\s*([^,]+?)\s*,\s*([A-Z]{2})\b")
    has = loc[0].notna() & (out["state"] == "")
    out.loc[has, "state"] = loc.loc[has, 1]
    out.loc[loc[0].notna(), "city"] = loc.loc[loc[0].notna(), 0]
    out["city"] = out["city"].str.replace(r"\s+Metropolitan Area$", "", regex=True)
    out["zip"] = out["zip"].str.extract(r"(\d{5})", expand=False).fillna("")
    out["wage_unit"] = out["wage_unit"].str.lower().map(lambda u: _UNIT.get(u, u))
    return out


def annual_wage(lo: str, hi: str, unit: str) -> float | None:
    """Midpoint of the posted range, annualized (2,080 hours a year)."""
    vals = []
    for v in (lo, hi):
        try:
            x = float(str(v).replace(",", "").replace("$", ""))
            if x > 0:
                vals.append(x)
        except ValueError:
            pass
    if not vals:
        return None
    mid = sum(vals) / len(vals)
    unit = unit or ("hour" if mid < 200 else "year")
    return mid * _HOURS.get(unit, 1.0)


def prepare_openings(openings: pd.DataFrame, title_matcher, taxonomy) -> pd.DataFrame:
    """Add onet_code, onet_title, title_status, title_confidence, annual_wage and sector (from the
    taxonomy when the file has none) to an openings frame (a new frame)."""
    out = openings.copy()
    res = title_matcher.match_many(out["title"].tolist())
    out["onet_code"] = [r.onet_code or (r.candidates[0].onet_code if r.candidates else "") for r in res]
    out["onet_title"] = [taxonomy.title(c) for c in out["onet_code"]]
    out["title_status"] = [r.status for r in res]
    out["title_confidence"] = [r.confidence for r in res]
    out["annual_wage"] = [annual_wage(a, b, u) for a, b, u in zip(out["wage_min"], out["wage_max"], out["wage_unit"])]
    sectors = dict(zip(taxonomy.occupations["onet_code"], taxonomy.occupations["sector"]))
    sect = [sectors.get(c, "other") for c in out["onet_code"]]
    out["sector"] = [s if s else t for s, t in zip(out["sector"], sect)]
    return out


@dataclass(frozen=True)
class OpeningWeights:
    occupation: float = 0.35
    requirements: float = 0.20
    english: float = 0.15
    experience: float = 0.05
    wage: float = 0.15
    distance: float = 0.10
    distance_scale_miles: float = 15.0
    relicensing_bonus: float = 0.05
    quick_license_months: float = 3.0          # a required licence this quick to get counts as nearly held
    licence_in_progress_factor: float = 0.6    # requirements score of a licence the client's plan is working on
    quick_licence_factor: float = 0.7          # ... of a licence obtainable within quick_license_months
    english_unknown_factor: float = 0.6        # english score when the opening sets a level and the client's is unknown
    english_gap_factor: float = 0.5            # ... multiplied per CEFR level below the opening's
    experience_unknown_factor: float = 0.6     # experience score when the opening asks years and they are unknown
    target_floor: float = 0.6                  # occupation score of an opening in one of the plan's targets (at least)
    unrelated_floor: float = 0.3               # an opening in an unrelated occupation keeps this share of its score
    wage_full_ratio: float = 1.2               # wage score is full at this multiple of the area median

    def __post_init__(self):
        problems = number_problems(self, [f.name for f in fields(self)])
        problems += number_problems(self, ("licence_in_progress_factor", "quick_licence_factor", "english_unknown_factor",
                                           "english_gap_factor", "experience_unknown_factor", "target_floor",
                                           "unrelated_floor"), 0.0, 1.0)
        if not problems and (self.distance_scale_miles == 0 or self.wage_full_ratio == 0):
            problems.append("distance_scale_miles and wage_full_ratio must be positive")
        if problems:
            raise ConfigError(problems)


@dataclass(frozen=True)
class ClientProfile:
    """What opening ranking needs of a client (built by the batch scorer from the pipeline)."""

    client_id: str
    onet_code: str
    targets: tuple[tuple[str, str, float], ...] = ()   # (onet code, pathway kind, pathway score)
    english: str | None = None
    years_experience: float | None = None
    zip: str = ""
    licenses_in_progress: tuple[str, ...] = ()         # licence ids of the client's relicensure pathways
    wants_relicensing: bool = False


@dataclass(frozen=True)
class OpeningMatch:
    client_id: str
    opening_id: str
    employer: str
    title: str
    onet_code: str
    score: float
    components: dict
    reasons: tuple[str, ...]
    distance_miles: float | None = None
    taxonomy_version: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class OpeningRanker:
    """``fit(openings)`` (a frame from ``prepare_openings``) builds per-opening arrays;
    ``rank_openings(client)`` scores every opening for a client at once (vectorised) and
    ``rank_clients(opening_id, clients)`` uses the same scorer, so both directions agree."""

    def __init__(self, pathway_ranker, weights: OpeningWeights | None = None):
        self.pathways = pathway_ranker
        self.taxonomy = pathway_ranker.taxonomy
        self.weights = weights or OpeningWeights()
        self.quick_license_months = self.weights.quick_license_months

    def zip_coords(self, zip_code: str) -> tuple[float, float] | None:
        """(latitude, longitude) of a ZIP code (the pathway ranker's geography)."""
        return self.pathways.geography.coordinates(zip_code)

    @cached_property
    def _license_months(self) -> dict[str, float]:
        lic = self.pathways.licensing
        return {lid: l.months_before_paid for st in lic.states for lid, l in lic.licenses(st).items()}

    def fit(self, openings: pd.DataFrame) -> "OpeningRanker":
        o = openings.reset_index(drop=True)
        self.openings_ = o
        self.records_ = o.to_dict("records")
        n = len(o)
        self.codes_ = o["onet_code"].astype(str).to_numpy(object)
        self.english_need_ = np.array([cefr_rank(v) or 0 for v in o["english_level"]], dtype=float)
        self.min_years_ = np.array([to_float(v, 0.0) for v in o["min_years_experience"]])
        wage_s = np.full(n, 0.5)
        self.wage_ratio_ = np.full(n, np.nan)
        for i, (w, c) in enumerate(zip(o["annual_wage"], self.codes_)):
            if not is_missing(w) and c:
                med = self.pathways.wages.lookup(c).annual_median
                if med:
                    self.wage_ratio_[i] = w / med
                    wage_s[i] = min(1.0, w / med / self.weights.wage_full_ratio)
        self.wage_s_ = wage_s
        coords = [self.zip_coords(str(z)) for z in o["zip"]]
        self.lat_ = np.radians([c[0] if c else np.nan for c in coords])
        self.lon_ = np.radians([c[1] if c else np.nan for c in coords])
        self.required_ = [tuple(l for l in str(v).split("|") if l) for v in o["required_licenses"]]
        self.supports_ = np.array([str(v).lower() == "yes" for v in o["supports_relicensing"]])
        # one vector holds a float for every opening: a big openings file keeps fewer (about 64 MB in all)
        self._occ_cache = BoundedCache(max(16, min(CACHE_LIMITS["occupation_vectors"], (64 << 20) // (8 * max(n, 1)))))
        self.__dict__.pop("_code_pos_", None)
        self._req_cache: dict[tuple, np.ndarray] = {}
        return self

    def _occupation_vector(self, code: str) -> np.ndarray:
        if code not in self._occ_cache:
            codes, sim = self.pathways.similarity_index.vector(code)
            if not hasattr(self, "_code_pos_"):
                pos = {c: i for i, c in enumerate(codes)}
                self._code_pos_ = np.array([pos.get(c, -1) for c in self.codes_])
            v = np.where(self._code_pos_ >= 0, np.minimum(1.0, sim[np.maximum(self._code_pos_, 0)]), 0.0)
            v[self.codes_ == code] = 1.0
            self._occ_cache[code] = v
        return self._occ_cache[code]

    def _requirements_vector(self, in_progress: tuple[str, ...]) -> np.ndarray:
        if in_progress not in self._req_cache:
            vals = []
            for req in self.required_:
                parts = [1.0]
                for lid in req:
                    m = self._license_months.get(lid)
                    w = self.weights
                    parts.append(w.licence_in_progress_factor if lid in in_progress else w.quick_licence_factor
                                 if m is not None and m <= self.quick_license_months else 0.0)
                vals.append(min(parts))
            self._req_cache[in_progress] = np.array(vals)
        return self._req_cache[in_progress]

    def _components(self, client: ClientProfile) -> dict[str, np.ndarray]:
        n = len(self.codes_)
        occ = self._occupation_vector(client.onet_code).copy()
        for c, kind, sc in client.targets:
            hit = self.codes_ == c
            if c != client.onet_code:
                occ[hit] = np.maximum(occ[hit], self.weights.target_floor + (1 - self.weights.target_floor) * min(1.0, sc))
        req = self._requirements_vector(tuple(sorted(client.licenses_in_progress)))
        have = cefr_rank(client.english)
        need = self.english_need_
        if have is None:
            eng = np.where(need > 0, self.weights.english_unknown_factor, 1.0)
        else:
            eng = np.where(need > 0, np.power(self.weights.english_gap_factor, np.clip(need - have, 0, None)), 1.0)
        yrs = client.years_experience
        if yrs is None:
            exp = np.where(self.min_years_ > 0, self.weights.experience_unknown_factor, 1.0)
        else:
            exp = np.where(self.min_years_ > 0, np.minimum(1.0, yrs / np.maximum(self.min_years_, 1e-9)), 1.0)
        dist = np.full(n, np.nan)
        c = self.zip_coords(client.zip) if client.zip else None
        if c:
            la, lo = math.radians(c[0]), math.radians(c[1])
            h = np.sin((self.lat_ - la) / 2) ** 2 + np.cos(la) * np.cos(self.lat_) * np.sin((self.lon_ - lo) / 2) ** 2
            dist = 3958.8 * 2 * np.arcsin(np.sqrt(h))
        dist_s = np.where(np.isnan(dist), 0.5, np.exp(-np.nan_to_num(dist) / self.weights.distance_scale_miles))
        return {"occupation": occ, "requirements": req, "english": eng, "experience": exp, "wage": self.wage_s_,
                "distance": dist_s, "_miles": dist}

    def _scores(self, client: ClientProfile, comps: dict[str, np.ndarray]) -> np.ndarray:
        w = self.weights
        keys = ("occupation", "requirements", "english", "experience", "wage", "distance")
        total = sum(getattr(w, k) for k in keys)
        s = sum(getattr(w, k) * comps[k] for k in keys) / total
        if client.wants_relicensing:
            s = s + w.relicensing_bonus * self.supports_
        # an opening in an unrelated occupation never ranks high
        s = s * (w.unrelated_floor + (1 - w.unrelated_floor) * comps["occupation"])
        return np.minimum(1.0, s)

    def _match(self, client: ClientProfile, i: int, comps, scores) -> OpeningMatch:
        o = self.records_[i]
        code = self.codes_[i]
        title = self.taxonomy.title(code)
        reasons = []
        occ = comps["occupation"][i]
        target = next(((c, k, s) for c, k, s in client.targets if c == code), None)
        if code and code == client.onet_code:
            reasons.append(f"same occupation as before ({title})")
        elif target:
            reasons.append(f"{target[1]} pathway target ({title})")
        else:
            reasons.append(f"related occupation ({title}, similarity {occ:.2f})")
        for lid in self.required_[i]:
            m = self._license_months.get(lid)
            if lid in client.licenses_in_progress:
                reasons.append(f"needs {lid}: licence in progress (soon)")
            elif m is not None and m <= self.quick_license_months:
                reasons.append(f"needs {lid}: obtainable in about {m:g} months")
            else:
                reasons.append(f"needs {lid}: not held and not in progress")
        need = o["english_level"]
        if cefr_rank(need) and client.english is None:
            reasons.append(f"English level unknown (opening asks {need})")
        elif cefr_rank(need) and cefr_rank(client.english) and cefr_rank(need) > cefr_rank(client.english):
            reasons.append(f"asks English {need}, client has {client.english}")
        if not math.isnan(self.wage_ratio_[i]):
            reasons.append(f"pays about ${o['annual_wage']:,.0f}/year ({self.wage_ratio_[i]:.0%} of the area median)")
        miles = comps["_miles"][i]
        if not math.isnan(miles):
            reasons.append(f"{miles:.0f} miles from the client's ZIP")
        if client.wants_relicensing and self.supports_[i]:
            reasons.append("employer supports relicensing")
        keys = ("occupation", "requirements", "english", "experience", "wage", "distance")
        return OpeningMatch(client.client_id, str(o["opening_id"]), str(o["employer"]), str(o["title"]), code,
                            round(float(scores[i]), 4), {k: round(float(comps[k][i]), 4) for k in keys},
                            tuple(reasons), None if math.isnan(miles) else round(float(miles), 1),
                            self.taxonomy.version)

    def rank_openings(self, client: ClientProfile, top: int = 5) -> list[OpeningMatch]:
        if not hasattr(self, "openings_"):
            raise InputError("OpeningRanker is not fitted: call fit(prepare_openings(...)) first")
        if not len(self.codes_):
            return []
        comps = self._components(client)
        scores = self._scores(client, comps)
        k = min(top, len(scores))
        idx = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        idx = sorted(idx, key=lambda i: (-scores[i], str(self.records_[i]["opening_id"])))
        return [self._match(client, i, comps, scores) for i in idx]

    def rank_clients(self, opening_id: str, clients: Sequence[ClientProfile], top: int = 10) -> list[OpeningMatch]:
        hits = np.flatnonzero(self.openings_["opening_id"].astype(str).to_numpy() == str(opening_id))
        if not len(hits):
            raise InputError(f"no opening with id {opening_id!r}")
        i = int(hits[0])
        out = []
        for c in clients:
            comps = self._components(c)
            scores = self._scores(c, comps)
            out.append(self._match(c, i, comps, scores))
        out.sort(key=lambda m: (-m.score, m.client_id))
        return out[:top]
