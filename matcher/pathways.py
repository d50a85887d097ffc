"""Relicensing pathways, bridge jobs and alternative careers, ranked by a transparent score.

For a client's O*NET occupation the ranker builds:
- relicensure: the state licence(s) covering that occupation, with the ordered foreign-trained route;
- direct: the same occupation when it needs no state licence (welder, cook): work now;
- bridge: occupations enterable within about six months (Job Zone <= 3, no licence or a licence
  whose route takes <= bridge_max_months), similar to the client's occupation;
- alternative: occupations that reuse most of the client's skills (Job Zone >= 3) and need no
  state licence (so no relicensing route at all).
Similarity of occupations comes from O*NET data: related-occupation tiers, shared detailed work
activities (DWA IDs) and shared technology commodities; licence barriers from the licensing data.
Each pathway carries its component scores (0..1), the weights, and plain-language reasons.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property

import numpy as np
import pandas as pd

from .errors import ConfigError, InputError
from .licensing import License, LicensingData, Step, cefr_rank, months_before_paid
from .settings import integer_problems, number_problems
from .taxonomy import Taxonomy, load_taxonomy
from .wages import LOUISVILLE, WageTable

__all__ = ["PathwayWeights", "PathwayConfig", "ClientContext", "Pathway", "PathwayRanker", "pathways_to_frame"]

# CEFR a job usually needs when no licence sets one, by O*NET Job Zone
CEFR_BY_JOB_ZONE = {1: "A2", 2: "B1", 3: "B1", 4: "B2", 5: "C1"}
# months to a first job when no licence route applies: job search plus short employer training
ENTRY_MONTHS_BY_JOB_ZONE = {1: 0.5, 2: 1.0, 3: 3.0, 4: 3.0, 5: 6.0}


# Occupations that need a US licence, certification or accredited program this project has not
# modelled yet (no route in taxonomies/licensing/<STATE>): they are never offered as bridge or
# alternative, because their time and cost cannot be stated honestly.  SOC prefixes:
# 29-1 diagnosing/treating practitioners, 29-2 technologists at Job Zone >= 4 (checked in code),
# 23-1011 lawyers, 25-2/25-3021 K-12 and special-education teachers (state certificate),
# 21-101 licensed counselors, 33-1/33-3 law enforcement, 53-2011/53-2012 pilots.
GATED_PREFIXES = ("29-1", "29-9091", "29-9092", "19-3033", "19-3034", "19-3039", "23-1011", "23-1012", "23-1021",
                  "23-1022", "23-1023", "25-2", "21-101", "33-1", "33-3", "53-2011", "53-2012", "13-2011.01")


@dataclass(frozen=True)
class PathwayWeights:
    """Weights of the score components (they need not sum to 1; the score divides by their sum)."""

    wage: float = 0.25
    time: float = 0.20
    cost: float = 0.15
    likelihood: float = 0.25
    demand: float = 0.15


@dataclass(frozen=True)
class PathwayConfig:
    """Settings of the pathway ranker, validated as a whole."""

    weights: PathwayWeights = field(default_factory=PathwayWeights)
    income_now_weights: PathwayWeights = field(default_factory=lambda: PathwayWeights(
        wage=0.10, time=0.40, cost=0.15, likelihood=0.25, demand=0.10))
    loan_max_usd: float = 3000.0
    time_scale_months: float = 30.0        # months at which the time score falls to 1/e
    income_now_time_scale_months: float = 3.0
    bridge_max_months: float = 6.0
    max_bridges: int = 6
    max_alternatives: int = 5
    min_similarity: float = 0.15
    min_alternative_similarity: float = 0.22   # alternatives must reuse more of the client's work
    wage_ratio_cap: float = 12.0           # wage score saturates at this multiple of the baseline wage

    def __post_init__(self):
        problems = []
        for name in ("weights", "income_now_weights"):
            w = getattr(self, name)
            if not isinstance(w, PathwayWeights):
                problems.append(f"{name} must be a PathwayWeights")
                continue
            bad = number_problems(w, [f.name for f in fields(w)])
            problems += [f"{name}.{b}" for b in bad]
            if not bad and sum(getattr(w, f.name) for f in fields(w)) <= 0:
                problems.append(f"{name} must have a positive sum")
        problems += number_problems(self, ("loan_max_usd", "time_scale_months", "income_now_time_scale_months",
                                           "bridge_max_months", "wage_ratio_cap"))
        problems += integer_problems(self, ("max_bridges", "max_alternatives"), minimum=0)
        problems += number_problems(self, ("min_similarity", "min_alternative_similarity"), 0.0, 1.0)
        if problems:
            raise ConfigError(problems)


@dataclass(frozen=True)
class ClientContext:
    """What the ranker knows of a client.  Unknown values stay None and are said so in reasons."""

    onet_code: str
    state: str = "KY"
    area: str = LOUISVILLE
    english: str | None = None            # CEFR A1..C2
    years_experience: float | None = None
    budget_usd: float | None = None
    need_income_now: bool = False
    isced_level: int | None = None        # of the client's credential, when known
    passed: tuple[str, ...] = ()          # exams or steps already done, e.g. ("NCLEX", "USMLE Step 1")

    def validate(self) -> "ClientContext":
        problems = []
        if not isinstance(self.onet_code, str) or len(self.onet_code) != 10:
            problems.append(f"onet_code must look like 29-1141.00 (got {self.onet_code!r})")
        if self.english is not None and cefr_rank(self.english) is None:
            problems.append(f"english must be a CEFR level A1..C2 (got {self.english!r})")
        if self.years_experience is not None and (not isinstance(self.years_experience, (int, float)) or self.years_experience < 0):
            problems.append(f"years_experience must be a non-negative number (got {self.years_experience!r})")
        if self.budget_usd is not None and (not isinstance(self.budget_usd, (int, float)) or self.budget_usd < 0):
            problems.append(f"budget_usd must be a non-negative number (got {self.budget_usd!r})")
        if problems:
            raise InputError("invalid client: " + "; ".join(problems))
        return self


@dataclass(frozen=True)
class Pathway:
    rank: int
    kind: str
    target_onet: str
    target_title: str
    target_soc: str
    license: dict | None                  # {"id", "title", "board_name", "board_url"} or None
    steps: tuple[Step, ...]
    total_cost_usd: float
    unknown_cost_steps: int
    loan_coverable_usd: float
    out_of_pocket_usd: float
    months_to_first_job: float
    median_annual_wage: float | None
    wage_area: str
    wage_level: str
    employment: int | None
    location_quotient: float | None
    similarity: float
    score: float
    components: dict
    reasons: tuple[str, ...]
    data_versions: dict

    def to_dict(self) -> dict:
        d = asdict(self)
        d["steps"] = [s.to_dict() for s in self.steps]
        return d


def pathways_to_frame(paths: list[Pathway]) -> pd.DataFrame:
    return pd.DataFrame([{
        "rank": p.rank, "kind": p.kind, "target_onet": p.target_onet, "target_title": p.target_title,
        "license": p.license["id"] if p.license else "", "months_to_first_job": p.months_to_first_job,
        "total_cost_usd": p.total_cost_usd, "loan_coverable_usd": p.loan_coverable_usd,
        "median_annual_wage": p.median_annual_wage, "wage_area": p.wage_area, "employment": p.employment,
        "score": p.score, "reasons": " | ".join(p.reasons)} for p in paths])


class PathwayRanker:
    """``rank(client)`` returns the ranked pathways for a ``ClientContext``."""

    def __init__(self, config: PathwayConfig | None = None, taxonomy: Taxonomy | None = None,
                 licensing: LicensingData | None = None, wages: WageTable | None = None):
        self.config = config or PathwayConfig()
        self.taxonomy = taxonomy or load_taxonomy()
        self.licensing = licensing or LicensingData(self.taxonomy)
        self.wages = wages or WageTable(self.taxonomy)

    # --- occupation similarity from O*NET data ---
    @cached_property
    def _similarity_data(self):
        tax = self.taxonomy
        codes = list(tax.occupations["onet_code"])
        index = {c: i for i, c in enumerate(codes)}
        tier_w = {"Primary-Short": 1.0, "Primary-Long": 0.8, "Supplemental": 0.55}
        related: dict[str, dict[str, float]] = defaultdict(dict)
        for a, b, tier, idx in zip(tax.related["onet_code"], tax.related["related_code"], tax.related["tier"],
                                   tax.related["index"]):
            w = tier_w.get(tier, 0.5) * (1.0 - 0.01 * (int(idx) - 1))
            related[a][b] = max(related[a].get(b, 0), w)
            related[b][a] = max(related[b].get(a, 0), w * 0.8)

        def sets(df, col):
            s: dict[str, set] = defaultdict(set)
            for c, v in zip(df["onet_code"], df[col]):
                s[c].add(v)
            return s

        dwa = sets(tax.dwa, "dwa_id")
        tech = sets(tax.technology, "commodity_code")
        self._has_own_data = {c for c in codes if dwa.get(c)}
        # "All Other" and some new O*NET-SOC 2019 codes have no activity data: they borrow the union of
        # the occupations in their SOC broad group (29-1229.00 <- 29-122x), else their minor group
        for data in (dwa, tech):
            for c in codes:
                if not data.get(c):
                    for width in (6, 4):
                        peers = [data[p] for p in codes if p[:width] == c[:width] and p != c and data.get(p)]
                        if peers:
                            data[c] = set().union(*peers)
                            break
        for c in codes:
            if not related.get(c):
                for width in (6, 4):
                    peers = [p for p in codes if p[:width] == c[:width] and p != c and related.get(p)]
                    if peers:
                        merged: dict[str, float] = {}
                        for p in peers:
                            for b, w in related[p].items():
                                merged[b] = max(merged.get(b, 0.0), w * 0.9)
                        merged.pop(c, None)
                        related[c] = merged
                        break
        # intermediate work activities: a DWA ID without its last segment (4.A.2.a.4.I09.D03 -> 4.A.2.a.4.I09)
        iwa = {c: {d.rsplit(".", 1)[0] for d in ds} for c, ds in dwa.items()}
        return codes, index, related, dwa, iwa, tech

    def similarity(self, a: str, b: str) -> tuple[float, dict]:
        """Similarity of occupation ``b`` to the client's occupation ``a`` (0..1) and its parts:
        O*NET relatedness, the share of b's detailed and intermediate work activities that a
        performs, IDF-weighted technology cosine, same SOC minor group."""
        codes, index, *_ = self._similarity_data
        if a not in index or b not in index:
            return 0.0, {"related": 0.0, "shared_activities": 0.0, "shared_activity_groups": 0.0,
                         "shared_technology": 0.0, "same_minor_group": 0.0}
        sim, (rel, d, i, t, same) = self._similarity_row(a)
        j = index[b]
        return float(sim[j]), {"related": round(float(rel[j]), 3), "shared_activities": round(float(d[j]), 3),
                               "shared_activity_groups": round(float(i[j]), 3),
                               "shared_technology": round(float(t[j]), 3), "same_minor_group": float(same[j])}

    def similarity_vector(self, a: str) -> tuple[list[str], np.ndarray]:
        """(codes, similarity of each code to ``a``): one vectorised row, cached per occupation."""
        codes, index, *_ = self._similarity_data
        if a not in index:
            return codes, np.zeros(len(codes))
        return codes, self._similarity_row(a)[0]

    def _similarity_row(self, a: str):
        cache = self.__dict__.setdefault("_row_cache", {})
        if a not in cache:
            if len(cache) > 2_000:
                cache.clear()
            rel, d, i, t, same = self._similarity_vectors(a)
            sim = 0.35 * rel + 0.25 * d + 0.25 * i + 0.10 * np.minimum(1.0, 1.5 * t) + 0.05 * same
            cache[a] = (sim.astype(np.float32), tuple(x.astype(np.float32) for x in (rel, d, i, t, same)))
        return cache[a]

    def similar_occupations(self, code: str, limit: int = 150) -> list[tuple[float, str, dict]]:
        """(similarity, code, parts) of the ``limit`` most similar occupations above ``min_similarity``,
        best first (military codes excluded); cached per occupation on this ranker."""
        cache = self.__dict__.setdefault("_similar_cache", {})
        if code not in cache:
            if len(cache) > 2_000:
                cache.clear()
            codes, index, *_ = self._similarity_data
            sim, (rel, d, i, t, same) = self._similarity_row(code)
            order = np.lexsort((np.arange(len(codes)), -sim))
            sims = []
            for j in order:
                if sim[j] < self.config.min_similarity or len(sims) >= limit:
                    break
                other = codes[j]
                if other == code or other.startswith("55-"):
                    continue
                sims.append((float(sim[j]), other, {"related": round(float(rel[j]), 3),
                                                    "shared_activities": round(float(d[j]), 3),
                                                    "shared_activity_groups": round(float(i[j]), 3),
                                                    "shared_technology": round(float(t[j]), 3),
                                                    "same_minor_group": float(same[j])}))
            cache[code] = sims
        return cache[code]

    @cached_property
    def _similarity_matrices(self):
        """Binary occupation x DWA / IWA / technology matrices and a dense related-occupation matrix."""
        import scipy.sparse as sp

        codes, index, related, dwa, iwa, tech = self._similarity_data

        def incidence(sets):
            vocab: dict = {}
            rows, cols = [], []
            for r, c in enumerate(codes):
                for v in sets.get(c, ()):
                    rows.append(r)
                    cols.append(vocab.setdefault(v, len(vocab)))
            m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(codes), max(1, len(vocab))))
            return m, np.asarray(m.sum(axis=1)).ravel()

        # technology: cosine over IDF-weighted commodities, so that the office software nearly every
        # occupation lists counts little and specialised tools count much
        Tm, _ = incidence(tech)
        df = np.asarray(Tm.sum(axis=0)).ravel()
        idf = np.log((1 + len(codes)) / (1 + df)) + 1.0
        Tw = Tm @ sp.diags(idf.astype(np.float32))
        norms = np.sqrt(np.asarray(Tw.multiply(Tw).sum(axis=1)).ravel())
        Tw = sp.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0).astype(np.float32)) @ Tw
        R = np.zeros((len(codes), len(codes)), np.float32)
        for a, row in related.items():
            if a in index:
                for b, w in row.items():
                    if b in index:
                        R[index[a], index[b]] = w
        minor = np.array([c[:4] for c in codes])
        return incidence(dwa), incidence(iwa), Tw.tocsr(), R, minor

    def _similarity_vectors(self, code: str):
        """The parts of ``similarity(code, other)`` for every other occupation at once."""
        codes, index, *_ = self._similarity_data
        (D, nd), (I, ni), Tw, R, minor = self._similarity_matrices
        a = index[code]
        with np.errstate(divide="ignore", invalid="ignore"):
            # the share of the target's activities the client performs; targets with very few listed
            # activities are damped (a floor on the denominator) so that a thin profile cannot look similar
            d = np.nan_to_num(np.asarray((D @ D[a].T).todense()).ravel() / np.maximum(nd, 8))
            i = np.nan_to_num(np.asarray((I @ I[a].T).todense()).ravel() / np.maximum(ni, 6))
            t = np.asarray((Tw @ Tw[a].T).todense()).ravel()
        same = (minor == code[:4]).astype(float)
        return R[a].astype(float), d, i, t, same

    def _job_zone(self, code: str) -> int:
        return self.taxonomy.job_zones.get(code, 3)

    # --- route arithmetic ---
    def _route(self, lic: License | None, code: str, client: ClientContext) -> dict:
        """Costs and months of a licence route (or of entering an unlicensed occupation: job search,
        plus employer training by Job Zone; the client's own occupation needs only the search)."""
        cfg = self.config
        if lic is None:
            months = 0.5 if code == client.onet_code else ENTRY_MONTHS_BY_JOB_ZONE.get(self._job_zone(code), 3.0)
            return {"steps": (), "total": 0.0, "unknown": 0, "loan": 0.0, "oop": 0.0, "months": months,
                    "before_paid": months, "skipped": []}
        passed = {p.lower() for p in client.passed}
        steps, skipped = [], []
        for s in lic.steps:
            if passed and any(p in s.name.lower() for p in passed):
                skipped.append(s.name)
                continue
            steps.append(s)
        req = [s for s in steps if s.required == "yes"]
        total = sum(s.cost_usd or 0.0 for s in req)
        unknown = sum(1 for s in req if s.cost_usd is None)
        eligible = sum(s.cost_usd or 0.0 for s in req if s.loan_eligible)
        loan = min(cfg.loan_max_usd, eligible)
        before_paid = months_before_paid(req)
        return {"steps": tuple(steps), "total": round(total, 2), "unknown": unknown, "loan": round(loan, 2),
                "oop": round(max(0.0, total - loan), 2), "months": sum(s.months for s in req),
                "before_paid": round(before_paid, 2), "skipped": skipped}

    # --- scoring ---
    def _components(self, client: ClientContext, code: str, route: dict, wage, baseline: float,
                    lic: License | None, kind: str, similarity: float,
                    with_reasons: bool = True) -> tuple[dict, list[str]]:
        cfg = self.config
        reasons: list[str] = []
        med = wage.annual_median
        if med:
            ratio = med / max(baseline, 1.0)
            wage_s = max(0.0, min(1.0, math.log(max(ratio, 1e-9)) / math.log(cfg.wage_ratio_cap)))
        else:
            wage_s = 0.0
        scale = cfg.income_now_time_scale_months if client.need_income_now else cfg.time_scale_months
        months = route["before_paid"]
        time_s = math.exp(-months / max(scale, 1e-9))
        budget = client.budget_usd if client.budget_usd is not None else 0.0
        if route["oop"] <= budget:
            afford = 1.0
        else:
            afford = budget / route["oop"] if route["oop"] > 0 else 1.0
        cost_s = 0.5 * afford + 0.5 / (1.0 + route["total"] / 3000.0)
        # likelihood: English level against what the licence or the Job Zone needs, experience, credential level
        jz = self._job_zone(code)
        need = (lic.english_min_cefr if lic and cefr_rank(lic.english_min_cefr) else CEFR_BY_JOB_ZONE.get(jz, "B1"))
        have = cefr_rank(client.english)
        gap = (cefr_rank(need) - have) if have is not None else None
        english_f = 0.75 if gap is None else (1.0 if gap <= 0 else 0.55 ** gap)
        if client.isced_level is not None and jz >= 4 and client.isced_level < 6:
            cred_f = 0.5
        else:
            cred_f = 1.0
        if kind in ("relicensure", "direct"):
            yrs = client.years_experience
            fit_f = 0.8 if yrs is None else min(1.0, 0.6 + 0.08 * yrs)   # experience in this very occupation
        else:
            fit_f = 0.4 + 0.6 * min(1.0, similarity)                       # how much of the work carries over
        likelihood = english_f * fit_f * cred_f
        emp = wage.employment
        lq = wage.location_quotient or 1.0
        if emp is None:
            demand = 0.5
        else:
            demand = 0.7 * min(1.0, math.log10(emp + 1) / 4.5) + 0.3 * min(1.0, lq / 2.0)
        comps = {"wage": round(wage_s, 4), "time": round(time_s, 4), "cost": round(cost_s, 4),
                 "likelihood": round(likelihood, 4), "demand": round(demand, 4)}
        if not with_reasons:
            return comps, reasons
        # reasons, in plain language
        if med:
            where = "" if wage.level == "area" else f" ({wage.level} figure: no {wage.requested_area} estimate)"
            reasons.append(f"median pay ${med:,.0f}/year in {wage.area_name}{where}")
        else:
            reasons.append("no OEWS wage estimate for this occupation")
        reasons.append(f"about {months:g} months before the first paycheck in this occupation"
                       + (" (steps counted one after another)" if route["steps"] else ""))
        if route["steps"]:
            extra = f"; {route['unknown']} step fee(s) not confirmed" if route["unknown"] else ""
            reasons.append(f"known fees ${route['total']:,.0f}, of which the loan fund can cover ${route['loan']:,.0f}{extra}")
            if route["oop"] > budget:
                reasons.append(f"${route['oop']:,.0f} beyond the loan exceeds the budget of ${budget:,.0f}")
        if route["skipped"]:
            reasons.append("already done: " + ", ".join(route["skipped"]))
        if gap is not None and gap > 0:
            reasons.append(f"needs English {need}; client is at {client.english}")
        elif gap is None:
            reasons.append(f"English level unknown (this path usually needs {need})")
        if emp:
            reasons.append(f"{emp:,} jobs locally (location quotient {lq:.2f})")
        else:
            reasons.append("local employment not published by OEWS (demand counted as average)")
        return comps, reasons

    @cached_property
    def _weights(self) -> dict[bool, tuple[dict, float]]:
        out = {}
        for urgent, w in ((False, self.config.weights), (True, self.config.income_now_weights)):
            ws = asdict(w)
            out[urgent] = (ws, sum(ws.values()))
        return out

    def _score(self, comps: dict, client: ClientContext) -> float:
        ws, total = self._weights[bool(client.need_income_now)]
        return round(sum(ws[k] * comps[k] for k in ws) / total, 4)

    # --- ranking ---
    def rank(self, client: ClientContext, top: int | None = None) -> list[Pathway]:
        client.validate()
        cfg = self.config
        tax = self.taxonomy
        if client.onet_code not in tax.titles:
            raise InputError(f"unknown O*NET-SOC code {client.onet_code!r}")
        area = self.wages.check_area(client.area)
        self.licensing.licenses(client.state)  # validates the state
        # wage gain is measured against what an entry job pays locally: the all-occupations 10th percentile
        allocc = self.wages.all_occupations(area)
        baseline = allocc.annual_p10 or allocc.annual_p25 or 30000.0
        versions = {"taxonomy": tax.version, "licensing": self.licensing.version(client.state.upper()),
                    "wages": "OEWS May 2025"}
        base = self._candidate_routes(client.onet_code, client.state.upper(), area, tuple(client.passed))
        scored = []
        for kind, code, lic, s, parts, route, wage in base:
            comps = self._components(client, code, route, wage, baseline, lic, kind, s, with_reasons=False)[0]
            scored.append((self._score(comps, client), kind, code, lic, s, parts, route, wage))
        # keep the best few of each kind (reasons are written for those only), then order by score
        keep, counts = [], defaultdict(int)
        limits = {"relicensure": 2, "direct": 1, "bridge": cfg.max_bridges, "alternative": cfg.max_alternatives}
        for item in sorted(scored, key=lambda x: (-x[0], x[1], x[2])):
            if counts[item[1]] < limits[item[1]]:
                keep.append(item)
                counts[item[1]] += 1
        out = []
        for score, kind, code, lic, s, parts, route, wage in keep:
            comps, reasons = self._components(client, code, route, wage, baseline, lic, kind, s)
            if kind != "relicensure" and kind != "direct":
                label = ("O*NET lists it as related" if parts["related"] > 0 else
                         "reuses the client's work activities")
                reasons.insert(0, f"{label} (similarity {s:.2f}: related {parts['related']:.2f}, "
                                  f"{parts['shared_activities']:.0%} of its detailed activities and "
                                  f"{parts['shared_activity_groups']:.0%} of its activity groups done before, "
                                  f"technology {parts['shared_technology']:.2f})")
            elif kind == "relicensure":
                reasons.insert(0, f"regain the licence: {lic.title} ({lic.board_name})")
            else:
                reasons.insert(0, "same occupation; no state licence is required in "
                                  f"{client.state.upper()}, so the client can apply now")
            comps = dict(comps, similarity=round(s, 4))
            out.append(Pathway(
                rank=0, kind=kind, target_onet=code, target_title=tax.title(code), target_soc=tax.soc_code(code),
                license=({"id": lic.license_id, "title": lic.title, "board_name": lic.board_name,
                          "board_url": lic.board_url} if lic else None),
                steps=route["steps"], total_cost_usd=route["total"], unknown_cost_steps=route["unknown"],
                loan_coverable_usd=route["loan"], out_of_pocket_usd=route["oop"],
                months_to_first_job=route["before_paid"], median_annual_wage=wage.annual_median,
                wage_area=wage.area_name or "", wage_level=wage.level, employment=wage.employment,
                location_quotient=wage.location_quotient, similarity=round(s, 4), score=score, components=comps,
                reasons=tuple(reasons), data_versions=versions))
        ranked = [replace(p, rank=i + 1) for i, p in enumerate(out)]
        return ranked[:top] if top else ranked

    def _candidate_routes(self, own: str, state: str, area: str, passed: tuple) -> list:
        """Candidates of every kind with their routes and wages: what does not depend on the client's
        English, experience, budget or urgency.  Cached per (occupation, state, area, passed)."""
        cache = self.__dict__.setdefault("_routes_cache", {})
        key = (own, state, area, passed)
        if key in cache:
            return cache[key]
        cfg = self.config
        probe = ClientContext(own, state=state, area=area, passed=passed)
        licensed = self.licensing.licensed_codes(state)
        cands: list[tuple] = []
        own_lics = self.licensing.for_occupation(own, state)
        if own_lics:
            for lic in own_lics[:2]:
                cands.append(("relicensure", own, lic, 1.0, {}))
        else:
            cands.append(("direct", own, None, 1.0, {}))
        bridges, alternatives = [], []
        own_data = self._similarity_data and self._has_own_data
        for s, code, parts in self.similar_occupations(own):
            if code not in own_data:
                continue  # no O*NET activity data of its own: its similarity would be borrowed, not measured
            lics = licensed.get(code, [])
            if not lics and (code.startswith(GATED_PREFIXES) or (code.startswith("29-2") and self._job_zone(code) >= 3)):
                continue
            lic = sorted(lics, key=lambda l: self._route(l, code, probe)["before_paid"])[0] if lics else None
            route_m = self._route(lic, code, probe)["before_paid"]
            jz = self._job_zone(code)
            if jz <= 3 and route_m <= cfg.bridge_max_months and len(bridges) < cfg.max_bridges * 3:
                bridges.append(("bridge", code, lic, s, parts))
            elif jz >= 3 and lic is None and s >= cfg.min_alternative_similarity and \
                    len(alternatives) < cfg.max_alternatives * 3:
                alternatives.append(("alternative", code, lic, s, parts))
        out = [(kind, code, lic, s, parts, self._route(lic, code, probe), self.wages.lookup(code, area))
               for kind, code, lic, s, parts in cands + bridges + alternatives]
        if len(cache) > 20_000:
            cache.clear()
        cache[key] = out
        return out

