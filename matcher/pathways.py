"""Relicensing pathways, bridge jobs and alternative careers, ranked by a transparent score.

For a client's O*NET occupation the ranker builds:
- relicensure: the state licence(s) covering that occupation, with the ordered foreign-trained
  route; an occupation the state licenses whose route is not modelled yet is still relicensure,
  with ``route_known=False``, the board and a message;
- direct: the same occupation when the state's registry says it needs no licence (or only under a
  condition), or when the registry does not list it (``licence_required='unknown'``: said so, never
  "no licence needed");
- bridge: occupations enterable within about six months (Job Zone <= 3; a licensed one only with a
  modelled route short enough), similar to the client's occupation;
- alternative: occupations that reuse most of the client's skills (Job Zone >= 3) and that the
  state does not license.
Each route is a range: required steps give the low end, conditional steps (and experience abroad a
board may or may not credit) the high end; a paid step (residency, internship, apprenticeship)
ends the months without income.  Similarity of occupations comes from O*NET data: related-occupation
tiers, shared detailed work activities and shared technology commodities.  Each pathway carries its
component scores (0..1), the weights, and plain-language reasons.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property

import pandas as pd

from ._util import instance_cache
from .errors import ConfigError, InputError
from .exams import ExamIdentifiers
from .geo import US_STATE_FIPS, Geography
from .licensing import License, LicensingData, RegistryEntry, Step, cefr_rank
from .settings import integer_problems, number_problems
from .similarity import OccupationSimilarity, SimilarityWeights
from .taxonomy import Taxonomy, load_taxonomy
from .wages import LOUISVILLE, WageFigure, WageTable

__all__ = ["PathwayWeights", "PathwayConfig", "ClientContext", "Pathway", "PathwayRanker", "pathways_to_frame",
           "format_range"]

# months to a first job when no licence route applies: job search plus short employer training
ENTRY_MONTHS_BY_JOB_ZONE = {1: 0.5, 2: 1.0, 3: 3.0, 4: 3.0, 5: 6.0}


# Occupations that need a US licence or certification: the state registries
# (taxonomies/licensing/<STATE>/registry.csv) say which.  For an occupation a registry does not
# list, these SOC prefixes still mark it as licensed with an unknown route (never licence-free):
# 29-1 diagnosing/treating practitioners, 29-2 technologists at Job Zone >= 3 (checked in code),
# lawyers and judges, K-12 teachers, licensed counselors, law enforcement, pilots, ship officers.
GATED_PREFIXES = ("29-1", "29-9091", "29-9092", "19-3033", "19-3034", "19-3039", "23-1011", "23-1012", "23-1021",
                  "23-1022", "23-1023", "25-2", "21-101", "33-1", "33-3", "53-2011", "53-2012", "53-5021",
                  "13-2011.01", "11-1031", "13-1041.06")
# where a route is a range, the score reads this point between its low (0) and high (1) end
RANGE_POINT = 0.5
# never proposed as a bridge or alternative: elected offices (legislators; coroners are elected in KY and IN)
NEVER_PROPOSED = frozenset({"11-1031.00", "13-1041.06"})


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
    unknown_demand: float = 0.25           # demand score when OEWS publishes no local employment
    curated_similarity_floor: float = 0.6  # a bridge or alternative that programmes recommend counts as this similar
    cost_scale_usd: float = 3000.0         # fees at which the fee part of the cost score halves
    demand_log10_jobs_full: float = 4.5    # log10 of local jobs at which the jobs part of demand is full (~31,600)
    demand_lq_full: float = 2.0            # location quotient at which the concentration part of demand is full
    english_gap_factor: float = 0.55       # likelihood multiplier per CEFR level below a licence's minimum
    english_unknown_factor: float = 0.75   # ... when the client's level is unknown and the licence sets one
    credential_gap_factor: float = 0.5     # ... when a Job Zone 4-5 target meets a sub-bachelor credential
    experience_unknown_fit: float = 0.8    # own occupation: fit when years of experience are unknown
    experience_base_fit: float = 0.6       # own occupation: fit with no experience, plus per year below
    experience_fit_per_year: float = 0.08

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
                                           "bridge_max_months", "wage_ratio_cap", "cost_scale_usd",
                                           "demand_log10_jobs_full", "demand_lq_full"))
        problems += number_problems(self, ("english_gap_factor", "english_unknown_factor", "credential_gap_factor",
                                           "experience_unknown_fit", "experience_base_fit",
                                           "experience_fit_per_year"), 0.0, 1.0)
        for name in ("time_scale_months", "income_now_time_scale_months", "cost_scale_usd", "demand_log10_jobs_full",
                     "demand_lq_full", "wage_ratio_cap"):
            v = getattr(self, name)
            if isinstance(v, (int, float)) and v == 0:
                problems.append(f"{name} must be positive")
        problems += integer_problems(self, ("max_bridges", "max_alternatives"), minimum=0)
        problems += number_problems(self, ("min_similarity", "min_alternative_similarity", "unknown_demand",
                                           "curated_similarity_floor"), 0.0, 1.0)
        if problems:
            raise ConfigError(problems)


@dataclass(frozen=True)
class ClientContext:
    """What the ranker knows of a client.  Unknown values stay None and are said so in reasons.
    ``state`` and ``area`` default to the ZIP code's (else KY and Louisville); ``passed`` holds exam
    or credential names or identifiers (``USMLE-1``, ``Step 1``, ``IELTS``...), see ``matcher.exams``."""

    onet_code: str
    state: str | None = None
    area: str | None = None
    english: str | None = None            # CEFR A1..C2
    years_experience: float | None = None
    budget_usd: float | None = None
    need_income_now: bool = False
    isced_level: int | None = None        # of the client's credential, when known
    passed: tuple[str, ...] = ()          # exams or credentials already passed or held
    zip_code: str | None = None

    def validate(self) -> "ClientContext":
        problems = []
        if not isinstance(self.onet_code, str) or len(self.onet_code) != 10:
            problems.append(f"onet_code must look like 29-1141.00 (got {self.onet_code!r})")
        if self.english is not None and cefr_rank(self.english) is None:
            problems.append(f"english must be a CEFR level A1..C2 (got {self.english!r})")
        for name, cap in (("years_experience", 70), ("budget_usd", 10_000_000)):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or not (0 <= v <= cap)):
                problems.append(f"{name} must be a number from 0 to {cap:,} (got {v!r})")
        if isinstance(self.passed, str):
            problems.append("passed must be a tuple of exam names, not one string")
        if problems:
            raise InputError("invalid client: " + "; ".join(problems))
        return self


@dataclass(frozen=True)
class Pathway:
    rank: int
    kind: str                             # relicensure, direct, bridge, alternative
    target_onet: str
    target_title: str
    target_soc: str
    license: dict | None                  # {"id", "title", "board_name", "board_url"} or None
    steps: tuple[Step, ...]               # what remains to do, in order (done steps are in steps_done)
    total_cost_usd: float | None          # required steps (None when the route is not known)
    unknown_cost_steps: int
    loan_coverable_usd: float | None
    out_of_pocket_usd: float | None
    months_to_first_job: float | None     # months until working in the target occupation (low end)
    median_annual_wage: float | None
    wage_area: str
    wage_level: str                       # area, state, national or none
    employment: int | None                # employment in the requested area only (None: not published)
    location_quotient: float | None
    similarity: float
    score: float
    components: dict
    reasons: tuple[str, ...]
    data_versions: dict
    state: str = ""
    licence_required: str = "unknown"     # the state's registry: yes, conditional, no, unknown
    licence_condition: str = ""
    route_known: bool = True
    steps_done: tuple[dict, ...] = ()     # {"name", "by"}: steps the client's exams or experience satisfy
    total_cost_usd_max: float | None = None       # plus conditional steps
    out_of_pocket_usd_max: float | None = None
    months_to_first_job_max: float | None = None
    months_to_first_paycheck_min: float | None = None   # months with no income on this route
    months_to_first_paycheck_max: float | None = None
    range_conditions: tuple[str, ...] = ()  # what makes the difference between the low and high ends
    paid_step: dict | None = None         # {"step", "annual_wage_usd", "source"}: pay during the first paid step
    employment_area: str = ""             # where `employment` counts jobs
    demand_known: bool = False
    caveats: tuple[str, ...] = ()
    curated: dict | None = None           # {"why", "source_name", "source_url", "as_of", "confirmed"} when recommended
    low_end_steps: tuple[tuple[int, float], ...] = ()   # (step_no, months) of the steps the low end counts, in order

    def to_dict(self) -> dict:
        d = asdict(self)
        d["steps"] = [s.to_dict() for s in self.steps]
        d["steps_done"] = [dict(x) for x in self.steps_done]
        d["range_conditions"] = list(self.range_conditions)
        d["caveats"] = list(self.caveats)
        d["reasons"] = list(self.reasons)
        return d


def pathways_to_frame(paths: list[Pathway]) -> pd.DataFrame:
    return pd.DataFrame([{
        "rank": p.rank, "kind": p.kind, "target_onet": p.target_onet, "target_title": p.target_title,
        "state": p.state, "licence_required": p.licence_required, "route_known": p.route_known,
        "license": p.license["id"] if p.license else "", "months_to_first_job": p.months_to_first_job,
        "months_to_first_job_max": p.months_to_first_job_max,
        "months_to_first_paycheck_min": p.months_to_first_paycheck_min,
        "months_to_first_paycheck_max": p.months_to_first_paycheck_max,
        "total_cost_usd": p.total_cost_usd, "total_cost_usd_max": p.total_cost_usd_max,
        "loan_coverable_usd": p.loan_coverable_usd, "median_annual_wage": p.median_annual_wage,
        "wage_area": p.wage_area, "wage_level": p.wage_level, "employment": p.employment,
        "score": p.score, "range_conditions": " | ".join(p.range_conditions),
        "reasons": " | ".join(p.reasons)} for p in paths])


def format_range(lo: float | None, hi: float | None, unit: str = "", money: bool = False) -> str:
    """'0-9.5 months', '$125-$2,785', '12 months'; 'unknown' when the low end is unknown."""
    if lo is None:
        return "unknown"
    f = (lambda x: f"${x:,.0f}") if money else (lambda x: f"{x:g}")
    text = f(lo) if hi is None or abs(hi - lo) < 1e-9 else f"{f(lo)}-{f(hi)}"
    return f"{text}{unit}"


class PathwayRanker:
    """``rank(client)`` returns the ranked pathways for a ``ClientContext``."""

    def __init__(self, config: PathwayConfig | None = None, taxonomy: Taxonomy | None = None,
                 licensing: LicensingData | None = None, wages: WageTable | None = None,
                 similarity_weights: SimilarityWeights | None = None):
        self.config = config or PathwayConfig()
        self.similarity_weights = similarity_weights
        self.taxonomy = taxonomy or load_taxonomy()
        self.licensing = licensing or LicensingData(self.taxonomy)
        self.wages = wages or WageTable(self.taxonomy)
        self.exams = ExamIdentifiers(self.taxonomy)
        self.geography = Geography(self.taxonomy)

    @cached_property
    def curated_bridges(self) -> dict[str, dict[str, dict]]:
        """client O*NET code -> target code -> row of taxonomies/bridges/bridges.csv (role, why, source)."""
        path = self.taxonomy.root / "bridges" / "bridges.csv"
        if not path.exists():
            return {}
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        out: dict[str, dict[str, dict]] = {}
        for r in df.to_dict("records"):
            if r["client_onet"] in self.taxonomy.titles and r["target_onet"] in self.taxonomy.titles:
                rows = out.setdefault(r["client_onet"], {})
                # order: the table lists each profession's options most recommended first
                rows.setdefault(r["target_onet"], {
                    "role": r["role"], "why": r["why"], "source_name": r["source_name"],
                    "source_url": r["source_url"], "as_of": r["as_of"], "confirmed": r["confirmed"],
                    "order": sum(1 for v in rows.values() if v["role"] == r["role"])})
        return out

    # --- occupation similarity (matcher.similarity) ---
    @cached_property
    def similarity_index(self) -> OccupationSimilarity:
        return OccupationSimilarity(self.taxonomy, self.similarity_weights, min_similarity=self.config.min_similarity)

    def similarity(self, a: str, b: str) -> tuple[float, dict]:
        return self.similarity_index.pair(a, b)

    def similarity_vector(self, a: str):
        return self.similarity_index.vector(a)

    def similar_occupations(self, code: str, limit: int = 150):
        return self.similarity_index.similar(code, limit)

    def _job_zone(self, code: str) -> int:
        return self.taxonomy.job_zones.get(code, 3)

        # --- where: state, OEWS area ---
    def resolve_place(self, client: ClientContext) -> tuple[str, str, tuple[str, ...]]:
        """(state, OEWS area, notes) of a client: the ZIP code's state and county area unless given
        (else KY and Louisville).  A ZIP in another state than ``state``, or an area that does not lie
        in the licence state, is an InputError: licences and wages never come from two states silently."""
        notes: list[str] = []
        state = str(client.state).strip().upper() if client.state else None
        area = client.area
        if client.zip_code not in (None, ""):
            place = self.geography.locate(client.zip_code)
            if state and state != place.state:
                raise InputError(f"ZIP {place.zip_code} is in {place.state} ({place.county}), not in {state}")
            state = place.state
            self.licensing.check_state(state)
            if not area:
                if place.oews_area:
                    area = place.oews_area
                    notes.append(f"ZIP {place.zip_code} is in {place.county}, {place.state}: wages of the OEWS area "
                                 f"{place.oews_area_name}")
                else:
                    area = f"{US_STATE_FIPS.get(state, '00')}00000"
                    notes.append(f"ZIP {place.zip_code} ({place.county or 'county unknown'}, {place.state}): the county's "
                                 f"OEWS area is not confirmed in the county table, so {state} statewide wages are used")
        state = self.licensing.check_state(state or "KY")
        area = self.wages.check_area(area or LOUISVILLE)
        name = self.wages.area_name(area)
        states = Geography.area_states(area, name, self.wages.area_state_fips(area))
        if state not in states:
            raise InputError(f"OEWS area {area} ({name}) is not in {state}: the licences would be {state}'s and the "
                             f"wages another state's; give an area in {state} (or --state {'/'.join(sorted(states))})")
        return state, area, tuple(notes)

    # --- route arithmetic ---
    def _route(self, lic: License | None, code: str, own: str, area: str, done_ids: frozenset,
               years: float | None) -> dict:
        """Costs and months of a licence route as a range: the low end takes the required steps (and
        experience abroad that a board may credit), the high end adds the conditional steps.  Without a
        licence: job search, plus employer training by Job Zone (the client's own occupation: the search)."""
        cfg = self.config
        if lic is None:
            m = 0.5 if code == own else ENTRY_MONTHS_BY_JOB_ZONE.get(self._job_zone(code), 3.0)
            return {"known": True, "steps": (), "done": (), "total": 0.0, "total_max": 0.0, "unknown": 0,
                    "loan": 0.0, "loan_max": 0.0, "oop": 0.0, "oop_max": 0.0, "months": m, "months_max": m,
                    "pay": m, "pay_max": m, "conditions": (), "paid_step": None, "caveats": (), "low_end": ()}
        remaining, done, conditions, caveats = [], [], [], []
        low, high = [], []                      # (step, months) of each end
        for s in lic.steps:
            hit = [i for i in s.satisfied_by if i in done_ids]
            if hit:
                done.append({"name": s.name, "by": ", ".join(hit)})
                continue
            m, in_low, in_high = s.months, s.required == "yes", s.required in ("yes", "conditional")
            if s.required == "conditional":
                conditions.append(f"{s.name}: {s.condition}")
            if s.experience_months and in_low:
                if years is None:
                    if s.foreign_experience in ("credited", "unclear"):
                        caveats.append(f"{s.name}: documented experience may shorten it (years of experience unknown)")
                elif s.foreign_experience == "credited":
                    have = years * 12
                    if have >= s.experience_months:
                        done.append({"name": s.name, "by": f"{years:g} years of documented experience "
                                                           f"(the board's rule credits experience abroad)"})
                        continue
                    m = round(s.months * (1 - have / s.experience_months), 2)
                elif s.foreign_experience == "unclear" and years * 12 >= s.experience_months:
                    in_low = False
                    conditions.append(f"{s.name}: needed unless the board credits the client's {years:g} years of "
                                      f"experience abroad (its rule does not say)")
                elif s.foreign_experience == "not_credited" and years > 0:
                    caveats.append(f"{s.name}: the board's rule does not credit experience abroad")
            remaining.append(s)
            if in_low:
                low.append((s, m))
            if in_high:
                high.append((s, m))

        def until_paid(items):
            months = 0.0
            for s, m in items:
                if s.paid:
                    return months, s
                months += m
            return months, None

        total = sum(s.cost_usd_min or 0.0 for s, _ in low)
        total_max = sum(s.cost_usd_max or 0.0 for s, _ in high)
        loan = min(cfg.loan_max_usd, sum(s.cost_usd_min or 0.0 for s, _ in low if s.loan_eligible))
        loan_max = min(cfg.loan_max_usd, sum(s.cost_usd_max or 0.0 for s, _ in high if s.loan_eligible))
        pay_low, paid_low = until_paid(low)
        pay_high, paid_high = until_paid(high)
        # the months without income are the fewer and the more of the two ends (crediting experience
        # can remove a paid step, so the low end of the route is not always the low end of this count)
        pay, pay_max = min(pay_low, pay_high), max(pay_low, pay_high)
        paid = paid_low or paid_high
        paid_step = None
        if paid is not None:
            if paid.paid_wage_annual_usd is not None:
                paid_step = {"step": paid.name, "annual_wage_usd": paid.paid_wage_annual_usd,
                             "source": paid.paid_wage_source}
            elif paid.paid_wage_onet:
                w = self.wages.lookup(paid.paid_wage_onet, area)
                paid_step = {"step": paid.name, "annual_wage_usd": w.annual_median,
                             "source": f"{w.release} median of {self.taxonomy.title(paid.paid_wage_onet)} "
                                       f"({paid.paid_wage_onet}), {w.area_name or 'not published'} ({w.level})"}
            else:
                paid_step = {"step": paid.name, "annual_wage_usd": None, "source": "pay during this step not in the data"}
        return {"known": True, "steps": tuple(remaining), "done": tuple(done), "total": round(total, 2),
                "total_max": round(max(total, total_max), 2),
                "unknown": sum(1 for s, _ in low if s.cost_basis == "unknown"),
                "loan": round(loan, 2), "loan_max": round(max(loan, loan_max), 2),
                "oop": round(max(0.0, total - loan), 2), "oop_max": round(max(0.0, max(total, total_max) - max(loan, loan_max)), 2),
                "months": round(sum(m for _, m in low), 2), "months_max": round(max(sum(m for _, m in low), sum(m for _, m in high)), 2),
                "pay": round(pay, 2), "pay_max": round(max(pay, pay_max), 2), "conditions": tuple(conditions),
                "paid_step": paid_step, "caveats": tuple(caveats),
                "low_end": tuple((s.step_no, m) for s, m in low)}

    _UNKNOWN_ROUTE = {"known": False, "steps": (), "done": (), "total": None, "total_max": None, "unknown": 0,
                      "loan": None, "loan_max": None, "oop": None, "oop_max": None, "months": None,
                      "months_max": None, "pay": None, "pay_max": None, "conditions": (), "paid_step": None,
                      "caveats": (), "low_end": ()}

    # --- scoring ---
    def _components(self, client: ClientContext, code: str, route: dict, wage: WageFigure, baseline: float,
                    lic: License | None, kind: str, similarity: float, entry: RegistryEntry,
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
        budget = client.budget_usd if client.budget_usd is not None else 0.0
        if route["known"]:
            months = route["pay"] + RANGE_POINT * (route["pay_max"] - route["pay"])
            time_s = math.exp(-months / max(scale, 1e-9))
            total = route["total"] + RANGE_POINT * (route["total_max"] - route["total"])
            oop = route["oop"] + RANGE_POINT * (route["oop_max"] - route["oop"])
            afford = 1.0 if oop <= budget else (budget / oop if oop > 0 else 1.0)
            cost_s = 0.5 * afford + 0.5 / (1.0 + total / cfg.cost_scale_usd)
        else:
            time_s = cost_s = 0.0            # an unknown route is not ranked as if it were quick or free
        # likelihood: English level against what the licence requires (from the data, never guessed),
        # experience, credential level
        jz = self._job_zone(code)
        need = lic.english_min_cefr if lic and cefr_rank(lic.english_min_cefr) else None
        have = cefr_rank(client.english)
        gap = (cefr_rank(need) - have) if need and have is not None else None
        if need is None:
            english_f = 1.0
        else:
            english_f = cfg.english_unknown_factor if gap is None else (1.0 if gap <= 0 else cfg.english_gap_factor ** gap)
        if client.isced_level is not None and jz >= 4 and client.isced_level < 6:
            cred_f = cfg.credential_gap_factor
        else:
            cred_f = 1.0
        if kind in ("relicensure", "direct"):
            yrs = client.years_experience   # experience in this very occupation
            fit_f = cfg.experience_unknown_fit if yrs is None else min(1.0, cfg.experience_base_fit
                                                                       + cfg.experience_fit_per_year * yrs)
        else:
            fit_f = 0.4 + 0.6 * min(1.0, similarity)                       # how much of the work carries over
        likelihood = english_f * fit_f * cred_f
        emp = wage.employment
        lq = wage.location_quotient or 1.0
        if emp is None:
            demand = cfg.unknown_demand
        else:
            demand = (0.7 * min(1.0, math.log10(emp + 1) / cfg.demand_log10_jobs_full)
                      + 0.3 * min(1.0, lq / cfg.demand_lq_full))
        comps = {"wage": round(wage_s, 4), "time": round(time_s, 4), "cost": round(cost_s, 4),
                 "likelihood": round(likelihood, 4), "demand": round(demand, 4)}
        if not with_reasons:
            return comps, reasons
        # reasons, in plain language
        if med:
            where = "" if wage.level == "area" else f" ({wage.level} figure: no estimate for {wage.requested_area_name})"
            reasons.append(f"median pay ${med:,.0f}/year in {wage.area_name}{where}")
            soc = self.taxonomy.soc_code(code)
            if wage.oews_code != soc:
                reasons.append(f"OEWS publishes this pay for {wage.oews_code} "
                               f"{self.wages.oews_title(wage.oews_code) or 'an aggregate'}, which contains {soc}")
            elif not code.endswith(".00"):
                reasons.append(f"the wage is OEWS's figure for SOC {soc} {self.taxonomy.soc_title(code)}: OEWS does not "
                               f"publish {self.taxonomy.title(code)} separately, and its pay may differ")
        else:
            reasons.append("no OEWS wage estimate for this occupation")
        if route["known"]:
            reasons.append(f"about {format_range(route['pay'], route['pay_max'])} months with no income on this route, "
                           f"{format_range(route['months'], route['months_max'])} months until working as "
                           f"{self.taxonomy.title(code)}" + (" (steps counted one after another)" if route["steps"] else ""))
            ps = route["paid_step"]
            if ps:
                pay = f"about ${ps['annual_wage_usd']:,.0f}/year" if ps["annual_wage_usd"] else "pay not in the data"
                reasons.append(f"paid from the step '{ps['step']}' ({pay}; {ps['source']})")
            if route["steps"]:
                extra = f"; {route['unknown']} required fee(s) unknown" if route["unknown"] else ""
                reasons.append(f"fees {format_range(route['total'], route['total_max'], money=True)}, of which the loan "
                               f"fund can lend up to {format_range(route['loan'], route['loan_max'], money=True)}{extra}")
                if route["oop"] > budget:
                    reasons.append(f"${route['oop']:,.0f} beyond the loan exceeds the budget of ${budget:,.0f}")
            if route["conditions"]:
                reasons.append("the high end applies if: " + "; ".join(route["conditions"][:3])
                               + (f" (+{len(route['conditions']) - 3} more)" if len(route["conditions"]) > 3 else ""))
        else:
            reasons.append("time and cost unknown: the steps of this licence are not in the data yet")
        if route["done"]:
            reasons.append("already done: " + "; ".join(f"{d['name']} ({d['by']})" for d in route["done"]))
        if need and gap is not None and gap > 0:
            reasons.append(f"the licence needs English {need}; client is at {client.english}")
        elif need and gap is None:
            reasons.append(f"English level unknown (the licence needs {need})")
        elif not need and cefr_rank(client.english) is not None and cefr_rank(client.english) <= 2:
            reasons.append(f"no English minimum in the data; the client's English ({client.english}) may limit "
                           f"which employers hire")
        if emp is not None:
            reasons.append(f"{emp:,} jobs in {wage.employment_area_name} (location quotient {lq:.2f})")
        else:
            reasons.append(f"employment in {wage.requested_area_name} not published by OEWS: demand unknown "
                           f"(scored {cfg.unknown_demand:g})")
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
        state, area, place_notes = self.resolve_place(client)
        done_ids = self.exams.closure(self.exams.parse(client.passed))
        # wage gain is measured against what an entry job pays locally: the all-occupations 10th percentile
        allocc = self.wages.all_occupations(area)
        baseline = allocc.annual_p10 or allocc.annual_p25 or 30000.0
        versions = {"taxonomy": tax.version, "licensing": self.licensing.version(state), "wages": "OEWS May 2025",
                    "exams": self.exams.version}
        years = client.years_experience
        base = self._candidate_routes(client.onet_code, state, area, done_ids)
        if years is not None:
            # experience abroad changes only the routes that have experience steps: recompute those
            base = [(kind, code, lic, s, parts,
                     self._route(lic, code, client.onet_code, area, done_ids, years) if self._has_experience_steps(lic)
                     else route, wage, entry)
                    for kind, code, lic, s, parts, route, wage, entry in base]
        scored = []
        for kind, code, lic, s, parts, route, wage, entry in base:
            comps = self._components(client, code, route, wage, baseline, lic, kind, s, entry, with_reasons=False)[0]
            scored.append((self._score(comps, client), kind, code, lic, s, parts, route, wage, entry))
        # keep the best few of each kind (reasons are written for those only), then order by score; the
        # client's own licence route is always kept
        keep, counts = [], defaultdict(int)
        limits = {"relicensure": 2, "direct": 1, "bridge": cfg.max_bridges, "alternative": cfg.max_alternatives}
        for item in sorted(scored, key=lambda x: (-x[0], x[1], x[2])):
            if counts[item[1]] < limits[item[1]] or (item[5] or {}).get("curated"):
                keep.append(item)
                counts[item[1]] += 1
        out = []
        for score, kind, code, lic, s, parts, route, wage, entry in keep:
            comps, reasons = self._components(client, code, route, wage, baseline, lic, kind, s, entry)
            reasons.insert(0, self._kind_reason(kind, code, lic, s, parts, entry, state))
            caveats = list(route["caveats"]) + (list(place_notes) if code == client.onet_code else [])
            comps = dict(comps, similarity=round(s, 4))
            cur = parts.get("curated") if parts else None
            out.append(Pathway(
                rank=0, kind=kind, target_onet=code, target_title=tax.title(code), target_soc=tax.soc_code(code),
                license=({"id": lic.license_id, "title": lic.title, "board_name": lic.board_name,
                          "board_url": lic.board_url} if lic else
                         ({"id": "", "title": entry.credential, "board_name": entry.board_name,
                           "board_url": entry.board_url} if not route["known"] else None)),
                steps=route["steps"], total_cost_usd=route["total"], unknown_cost_steps=route["unknown"],
                loan_coverable_usd=route["loan"], out_of_pocket_usd=route["oop"],
                months_to_first_job=route["months"], median_annual_wage=wage.annual_median,
                wage_area=wage.area_name or "", wage_level=wage.level, employment=wage.employment,
                location_quotient=wage.location_quotient, similarity=round(s, 4), score=score, components=comps,
                reasons=tuple(reasons), data_versions=versions, state=state,
                licence_required=entry.licence_required if not (entry.licence_required == "unknown" and
                                                                 self._gated(code)) else "yes",
                licence_condition=entry.licence_condition, route_known=route["known"],
                steps_done=route["done"], total_cost_usd_max=route["total_max"],
                out_of_pocket_usd_max=route["oop_max"], months_to_first_job_max=route["months_max"],
                months_to_first_paycheck_min=route["pay"], months_to_first_paycheck_max=route["pay_max"],
                range_conditions=route["conditions"], paid_step=route["paid_step"],
                employment_area=wage.employment_area_name if wage.employment is not None else "",
                demand_known=wage.employment is not None, caveats=tuple(caveats),
                curated=({k: cur[k] for k in ("why", "source_name", "source_url", "as_of", "confirmed", "order")}
                         if cur else None), low_end_steps=route["low_end"]))
        if top and len(out) > top:
            # the client's own occupation (its licence route, or the job itself) is always shown
            own = [p for p in out if p.target_onet == client.onet_code][:top]
            rest = [p for p in out if p.target_onet != client.onet_code][:top - len(own)]
            keep_ids = {id(p) for p in own + rest}
            out = [p for p in out if id(p) in keep_ids]
        return [replace(p, rank=i + 1) for i, p in enumerate(out)]

    def _kind_reason(self, kind, code, lic, s, parts, entry: RegistryEntry, state: str) -> str:
        if kind in ("bridge", "alternative"):
            label = "O*NET lists it as related" if parts["related"] > 0 else "reuses the client's work activities"
            if parts.get("curated"):
                c = parts["curated"]
                label = (f"recommended for this profession ({c['source_name']}"
                         f"{'' if c['confirmed'] == 'yes' else ', not confirmed on the source'}): {c['why']}; O*NET data")
            text = (f"{label} (similarity {s:.2f}: related {parts['related']:.2f}, "
                    f"{parts['shared_activities']:.0%} of its detailed activities and "
                    f"{parts['shared_activity_groups']:.0%} of its activity groups done before, "
                    f"technology {parts['shared_technology']:.2f})")
            if lic is not None and entry.licensed:
                text += f"; needs {state}'s {lic.title} ({lic.board_name}): its steps are included"
            elif lic is None and entry.licence_required == "conditional":
                text += (f"; {state} requires {entry.credential or 'a licence'} only {entry.licence_condition}: "
                         f"work without it is open")
            elif lic is not None:
                text += f"; not licensed in {state}, but employers may expect {lic.title}: its steps are included"
            return text
        if kind == "relicensure":
            cond = f" (required {entry.licence_condition})" if entry.licence_required == "conditional" else ""
            if lic is None:
                who = entry.board_name or "the state board"
                url = f" {entry.board_url}" if entry.board_url else ""
                return (f"a licence is required{cond}: {entry.credential or 'a state licence'} from {who}{url}; "
                        f"the steps of this route are not in the data yet, so ask the board before planning")
            return f"regain the licence: {lic.title} ({lic.board_name}){cond}"
        # direct
        if entry.licence_required == "no":
            cert = f"; employers may expect {lic.title} (its steps are listed)" if lic is not None else ""
            return (f"same occupation; {state} does not license it (source: {entry.source_url}), so the client can "
                    f"apply now{cert}")
        if entry.licence_required == "conditional":
            return (f"same occupation without a licence: {state} requires {entry.credential or 'a licence'} only "
                    f"{entry.licence_condition}; other jobs in this occupation are open now")
        return (f"same occupation; the project's {state} licence registry does not list it, so no licence route is "
                f"known (not confirmed licence-free: check with the employer or the state's board list)")

    def _gated(self, code: str) -> bool:
        return code.startswith(GATED_PREFIXES) or (code.startswith("29-2") and self._job_zone(code) >= 3)

    @staticmethod
    def _has_experience_steps(lic: License | None) -> bool:
        return lic is not None and any(s.experience_months for s in lic.steps)

    def _candidate_routes(self, own: str, state: str, area: str, done_ids: frozenset) -> list:
        """Candidates of every kind with their routes and wages: what does not depend on the client's
        English, experience, budget or urgency.  Cached per (occupation, state, area, exams done)."""
        cache = instance_cache(self, "_routes_cache", "routes")
        key = (own, state, area, done_ids)
        if key in cache:
            return cache[key]
        cfg = self.config
        lic_data = self.licensing
        route = lambda lic, code: self._route(lic, code, own, area, done_ids, None)  # noqa: E731
        cands: list[tuple] = []
        own_entry = lic_data.status(own, state)
        own_lics = lic_data.for_occupation(own, state)
        if own_entry.licensed or (own_entry.licence_required == "unknown" and self._gated(own)):
            for lic in own_lics[:2]:
                cands.append(("relicensure", own, lic, 1.0, {}, route(lic, own)))
            if not own_lics:
                cands.append(("relicensure", own, None, 1.0, {}, self._UNKNOWN_ROUTE))
            if own_entry.licence_required == "conditional":
                cands.append(("direct", own, None, 1.0, {}, route(None, own)))
        else:
            lic = own_lics[0] if own_lics else None    # a certification employers expect (registry: no licence)
            cands.append(("direct", own, lic, 1.0, {}, route(lic, own)))
        bridges, alternatives = [], []
        own_data = self.similarity_index.has_own_data
        own_jz = self._job_zone(own)
        curated = self.curated_bridges.get(own, {})

        def allowed(code: str) -> bool:
            # never elected offices or military; nothing above the client's own Job Zone plus one
            return (code not in NEVER_PROPOSED and not code.startswith("55-")
                    and self._job_zone(code) <= own_jz + 1)

        def best_route(code: str, lics):
            routes = sorted(((route(l, code), l) for l in lics), key=lambda x: (x[0]["months"], x[1].license_id))
            return routes[0] if routes else (route(None, code), None)

        # curated bridges and alternatives (programmes for immigrant professionals recommend them)
        for code, row in curated.items():
            if code == own or not allowed(code):
                continue
            entry = lic_data.status(code, state)
            licensed = entry.licensed or (entry.licence_required == "unknown" and self._gated(code))
            lics = lic_data.for_occupation(code, state)
            if licensed and not lics and entry.licence_required != "conditional":
                if row["role"] == "alternative":   # listed, honestly: the route is not in the data
                    sim, parts = self.similarity_index.pair(own, code)
                    alternatives.append(("alternative", code, None, max(sim, cfg.curated_similarity_floor),
                                         dict(parts, curated=row), self._UNKNOWN_ROUTE))
                continue
            r, lic = best_route(code, lics)
            sim, parts = self.similarity_index.pair(own, code)
            item = (row["role"], code, lic, max(sim, cfg.curated_similarity_floor), dict(parts, curated=row), r)
            (bridges if row["role"] == "bridge" else alternatives).append(item)
        for s, code, parts in self.similar_occupations(own):
            if code not in own_data or code in curated or not allowed(code):
                continue  # no activity data of its own (its similarity would be borrowed), or listed above
            entry = lic_data.status(code, state)
            licensed = entry.licensed or (entry.licence_required == "unknown" and self._gated(code))
            lics = lic_data.for_occupation(code, state)
            if licensed and not lics and entry.licence_required != "conditional":
                continue  # licensed, route not modelled: its time and cost cannot be stated
            jz = self._job_zone(code)
            r, lic = best_route(code, lics)
            if jz <= 3 and r["months"] <= cfg.bridge_max_months and len(bridges) < cfg.max_bridges * 3:
                if self.wages.lookup(code, area).employment is None:
                    continue  # a computed bridge needs a local employment figure
                bridges.append(("bridge", code, lic, s, parts, r))
            elif jz >= 3 and not licensed and s >= cfg.min_alternative_similarity and \
                    len(alternatives) < cfg.max_alternatives * 3:
                alternatives.append(("alternative", code, lic, s, parts, r))
        out = [(kind, code, lic, s, parts, r, self.wages.lookup(code, area), lic_data.status(code, state))
               for kind, code, lic, s, parts, r in cands + bridges + alternatives]
        cache[key] = out
        return out
