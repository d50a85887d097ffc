"""A client's plan: the career route, the job to earn in meanwhile, alternatives, and the money
month by month (fees, the revolving loan fund, income), from the ranked pathways.

``Planner(ranker, config).plan(client)`` returns a frozen ``ClientPlan``:
- ``route``: the client's own occupation (relicensure where the state licenses it, else direct);
  when the route is out of reach (a new U.S. degree of ``out_of_reach_education_months`` or more,
  or a residency long after graduation) the plan says why and takes the best alternative;
- ``bridge``: the job to earn in while on the route (none when the client can work in the route's
  occupation at once, or when work authorisation is pending), chosen for starting soon, paying,
  local demand and building toward the route (``BridgeWeights``);
- ``timeline``: phases from month 0 to the end of the route (route steps run from month 0; the
  bridge job pays from the end of its own entry steps until a full-time or paid route step);
- ``loan``: at most ``loan_cap_usd`` per client across the whole plan; it pays loan-eligible
  fees first, then living support for months without income; the client's budget pays what the
  loan does not before anything counts as out of pocket; repaid over ``loan_term_months``;
- ``earnings``: income at 12, 36 and 60 months against staying in an entry job (the area's
  all-occupations annual 10th percentile, OEWS) and against the bridge alone; ``payback_month``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from datetime import date

from .errors import ConfigError, InputError
from .pathways import ClientContext, Pathway, PathwayRanker, format_range
from .settings import integer_problems, number_problems

__all__ = ["PlanConfig", "BridgeWeights", "Planner", "ClientPlan", "plan_columns", "PLAN_COLUMNS"]

WORK_AUTHORIZED = ("yes", "no", "pending")
FULL_TIME_KINDS = {"education", "residency"}   # route steps during which a bridge job stops


@dataclass(frozen=True)
class BridgeWeights:
    """How a bridge job is chosen (weights need not sum to 1)."""

    soon: float = 0.30      # months until it pays (exp(-months / 3))
    pay: float = 0.15       # the pathway's wage score
    demand: float = 0.15    # the pathway's local demand score
    builds: float = 0.40    # builds toward the route: programmes' first recommendation 1.0, then -0.15 per rank
                            # (floor 0.4); otherwise O*NET similarity


@dataclass(frozen=True)
class PlanConfig:
    """Settings that shape a plan.  The fund's terms are not published: term, rate and the monthly
    living support are assumptions, stated in every plan's ``loan.assumptions``."""

    loan_cap_usd: float = 3000.0
    loan_term_months: int = 24
    loan_annual_rate: float = 0.0
    living_support_usd_per_month: float = 500.0
    horizon_months: int = 60
    max_alternatives: int = 3
    bridge_weights: BridgeWeights = field(default_factory=BridgeWeights)
    min_computed_bridge_similarity: float = 0.30   # a bridge not recommended by programmes must be this similar
    out_of_reach_education_months: float = 36.0    # a required new U.S. degree this long puts a route out of reach
    residency_max_years_since_graduation: int = 10  # beyond this, residency routes are treated as out of reach
    instant_route_months: float = 1.0              # a route that pays within this needs no bridge

    def __post_init__(self):
        problems = number_problems(self, ("loan_cap_usd", "living_support_usd_per_month",
                                          "out_of_reach_education_months", "instant_route_months"))
        problems += number_problems(self, ("loan_annual_rate",), 0.0, 1.0)
        problems += number_problems(self, ("min_computed_bridge_similarity",), 0.0, 1.0)
        problems += integer_problems(self, ("loan_term_months", "horizon_months", "residency_max_years_since_graduation"))
        problems += integer_problems(self, ("max_alternatives",), minimum=0)
        if not isinstance(self.bridge_weights, BridgeWeights):
            problems.append("bridge_weights must be a BridgeWeights")
        else:
            bw = [f.name for f in fields(self.bridge_weights)]
            problems += [f"bridge_weights.{p}" for p in number_problems(self.bridge_weights, bw)]
        if isinstance(self.horizon_months, int) and not isinstance(self.horizon_months, bool) and \
                self.horizon_months < 60:
            problems.append("horizon_months must be at least 60 (earnings are reported at 60 months)")
        if problems:
            raise ConfigError(problems)


@dataclass(frozen=True)
class ClientPlan:
    client: dict
    route: Pathway
    route_note: str
    bridge: Pathway | None
    bridge_note: str
    alternatives: tuple[Pathway, ...]
    timeline: tuple[dict, ...]
    months_to_first_paycheck: float | None
    months_to_route: float | None
    months_to_route_max: float | None
    route_first_paycheck_month: float | None
    loan: dict
    earnings: dict
    caveats: tuple[str, ...]
    settings: dict
    data_versions: dict

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["route"] = self.route.to_dict()
        d["bridge"] = self.bridge.to_dict() if self.bridge else None
        d["alternatives"] = [p.to_dict() for p in self.alternatives]
        d["timeline"] = [dict(p) for p in self.timeline]
        d["caveats"] = list(self.caveats)
        return d


def _money(x) -> str:
    return "n/a" if x is None else f"${x:,.0f}"


def pathway_cell(p: Pathway | None) -> str:
    """A pathway in the ``pathway_N`` cell format of ``matcher score``."""
    if p is None:
        return ""
    if p.route_known:
        plan = (f"{format_range(p.months_to_first_paycheck_min, p.months_to_first_paycheck_max)} months without pay; "
                f"cost {format_range(p.total_cost_usd, p.total_cost_usd_max, money=True)} "
                f"(loan {format_range(p.loan_coverable_usd, p.loan_coverable_usd, money=True)})")
    else:
        plan = "licence route not in the data (months and cost unknown)"
    return f"{p.kind}: {p.target_title} ({p.target_onet}); {plan}; median {_money(p.median_annual_wage)}/yr; score {p.score:.2f}"


PLAN_COLUMNS = ["plan_route", "plan_bridge", "plan_route_kind", "plan_licence_id", "plan_months_to_first_paycheck",
                "plan_months_to_route", "plan_fees_usd", "plan_loan_usd", "plan_out_of_pocket_usd",
                "plan_earnings_12m", "plan_earnings_36m", "plan_earnings_60m", "plan_entry_earnings_12m",
                "plan_entry_earnings_36m", "plan_entry_earnings_60m", "plan_loan_schedule",
                "plan_loan_monthly_payment_usd", "plan_loan_repayment_start_month", "plan_loan_term_months",
                "plan_caveats"]


def plan_columns(plan: ClientPlan) -> dict:
    """The plan as plain numbers and identifiers, the columns ``matcher score`` writes (a caseload
    report can work from these alone)."""
    num = lambda x: "" if x is None else round(float(x), 2)  # noqa: E731
    r = plan.route
    return {
        "plan_route": pathway_cell(r), "plan_bridge": pathway_cell(plan.bridge), "plan_route_kind": r.kind,
        "plan_licence_id": (r.license or {}).get("id", "") if r.kind == "relicensure" else "",
        "plan_months_to_first_paycheck": num(plan.months_to_first_paycheck),
        "plan_months_to_route": num(plan.months_to_route), "plan_fees_usd": num(plan.loan["fees_usd"]),
        "plan_loan_usd": num(plan.loan["amount_usd"]), "plan_out_of_pocket_usd": num(plan.loan["out_of_pocket_usd"]),
        "plan_earnings_12m": num(plan.earnings["plan_12m_usd"]), "plan_earnings_36m": num(plan.earnings["plan_36m_usd"]),
        "plan_earnings_60m": num(plan.earnings["plan_60m_usd"]),
        "plan_entry_earnings_12m": num(plan.earnings.get("entry_12m_usd")),
        "plan_entry_earnings_36m": num(plan.earnings["entry_36m_usd"]),
        "plan_entry_earnings_60m": num(plan.earnings.get("entry_60m_usd")),
        "plan_loan_schedule": "|".join(f"{m}:{v:g}" for m, v in plan.loan["schedule"].items()),
        "plan_loan_monthly_payment_usd": num(plan.loan.get("monthly_payment_usd") if plan.loan["amount_usd"] else None),
        "plan_loan_repayment_start_month": num(plan.loan.get("repayment_starts_month")),
        "plan_loan_term_months": plan.loan.get("term_months", "") if plan.loan["amount_usd"] else "",
        "plan_caveats": " | ".join(plan.caveats),
    }


class Planner:
    """``plan(client, work_authorized=None, graduation_year=None)`` -> ``ClientPlan``."""

    def __init__(self, ranker: PathwayRanker | None = None, config: PlanConfig | None = None,
                 today: date | None = None):
        self.ranker = ranker or PathwayRanker()
        self.config = config or PlanConfig()
        self.today = today

    @classmethod
    def from_settings(cls, settings=None, taxonomy=None, today: date | None = None) -> "Planner":
        """A planner (and its pathway ranker) from one ``matcher.config.Settings``."""
        from .config import Settings

        st = settings or Settings()
        return cls(PathwayRanker(st.pathways, taxonomy=taxonomy, similarity_weights=st.similarity), st.plan, today)

    # --- choosing ---
    def _out_of_reach(self, p: Pathway, graduation_year: int | None) -> str:
        if p.kind != "relicensure" or not p.route_known:
            return ""
        cfg = self.config
        for s in p.steps:
            if s.required == "yes" and s.kind == "education" and s.months >= cfg.out_of_reach_education_months:
                return (f"the route needs a new U.S. degree ({s.name}, about {s.months:g} months): out of reach as a "
                        f"plan, kept among the alternatives")
        if graduation_year and any(s.kind == "residency" for s in p.steps):
            years = (self.today or date.today()).year - graduation_year
            if years > cfg.residency_max_years_since_graduation:
                return (f"graduated {years} years ago: most residency programmes prefer graduates of the last "
                        f"{cfg.residency_max_years_since_graduation} years (a setting), so the residency route is "
                        f"treated as out of reach")
        return ""

    def _bridge_score(self, p: Pathway) -> float:
        w = self.config.bridge_weights
        months = (p.months_to_first_paycheck_min or 0) + 0.5 * ((p.months_to_first_paycheck_max or 0)
                                                                  - (p.months_to_first_paycheck_min or 0))
        builds = (max(0.4, 1.0 - 0.15 * p.curated.get("order", 0)) if p.curated
                  else min(1.0, p.components.get("similarity", 0.0)))
        total = w.soon + w.pay + w.demand + w.builds
        s = (w.soon * math.exp(-months / 3.0) + w.pay * p.components["wage"] + w.demand * p.components["demand"]
             + w.builds * builds) / total
        return s * (0.5 + 0.5 * p.components["likelihood"])

    def plan(self, client: ClientContext, work_authorized: str | None = None,
             graduation_year: int | None = None, paths: list[Pathway] | None = None) -> ClientPlan:
        """The plan for a client; ``paths`` may pass the client's full ``rank(client)`` list when the
        caller has it already (the batch scorer), so the pathways are ranked once."""
        cfg = self.config
        if work_authorized is not None and work_authorized not in WORK_AUTHORIZED:
            raise InputError(f"work_authorized must be one of {', '.join(WORK_AUTHORIZED)} (got {work_authorized!r})")
        this_year = (self.today or date.today()).year
        if graduation_year is not None and (isinstance(graduation_year, bool) or not isinstance(graduation_year, int)
                                            or not 1940 <= graduation_year <= this_year):
            raise InputError(f"graduation_year must be a year between 1940 and {this_year} (got {graduation_year!r})")
        paths = self.ranker.rank(client) if paths is None else paths
        own = [p for p in paths if p.target_onet == client.onet_code]
        caveats: list[str] = []
        relic = sorted((p for p in own if p.kind == "relicensure"), key=lambda p: (not p.route_known, -p.score))
        route, route_note, kept = None, "", []
        for p in relic:
            why = self._out_of_reach(p, graduation_year)
            if why:
                kept.append((p, why))
                continue
            route = p
            break
        if route is None and not relic:
            route = next((p for p in own if p.kind == "direct"), None)
        alternatives = [p for p in paths if p.kind == "alternative"]
        if route is None:
            # every licence route is out of reach: the best alternative with a known route becomes the route
            known = [p for p in alternatives if p.route_known]
            best = (min((p for p in known if p.curated), key=lambda p: p.curated.get("order", 0), default=None)
                    or (known[0] if known else None)
                    or next((p for p in paths if p.kind == "bridge" and p.route_known), None))
            route = best or relic[0]
            route_note = ("; ".join(why for _, why in kept) + f"; the plan follows {route.target_title} instead"
                          if best else kept[0][1])
            alternatives = [p for p in alternatives if p is not route]
        elif route.kind == "relicensure":
            route_note = route.reasons[0]
            if kept:
                route_note += "; " + "; ".join(f"{p.license['id'] if p.license else p.target_title}: {why}"
                                               for p, why in kept)
        else:
            route_note = route.reasons[0]
        if route.kind == "relicensure" and any(s.kind == "residency" for s in route.steps):
            caveats.append("matching into a U.S. residency is competitive for international graduates; the plan "
                           "assumes a match in the first season")
            if graduation_year is None:
                caveats.append(f"graduation year unknown: the plan assumes the client graduated within the last "
                               f"{cfg.residency_max_years_since_graduation} years, as most residency programmes prefer")
        alternatives = [p for p, _ in kept] + [p for p in alternatives if p.target_onet != route.target_onet]
        alternatives = alternatives[:cfg.max_alternatives]
        # the bridge
        bridge, bridge_note = None, ""
        if work_authorized in ("no", "pending"):
            bridge_note = (f"no bridge job: work authorisation is {work_authorized}; the plan starts the route's "
                           f"study steps, and a job once authorisation arrives")
            caveats.append(bridge_note)
        elif route.kind == "direct" or (route.route_known and (route.months_to_first_paycheck_min or 0)
                                        <= cfg.instant_route_months):
            bridge_note = f"no bridge needed: the client can work as {route.target_title} at once"
        else:
            options = [p for p in paths if p.kind == "bridge" and p.route_known and p.target_onet != route.target_onet
                       and (p.curated or p.components.get("similarity", 0) >= cfg.min_computed_bridge_similarity)]
            # where programmes for immigrant professionals recommend bridges for this profession, choose among them
            options = [p for p in options if p.curated] or options
            if options:
                bridge = max(options, key=lambda p: (self._bridge_score(p), p.target_onet))
                why = ("recommended for this profession" if bridge.curated else "similar work")
                bridge_note = (f"{bridge.target_title}: pays from about month "
                               f"{bridge.months_to_first_paycheck_min or 0:g}, {why}, "
                               f"{'local demand unknown' if not bridge.demand_known else f'{bridge.employment:,} jobs locally'}")
            else:
                bridge_note = "no bridge job found that starts soon and builds toward the route"
        if bridge is not None and not bridge.demand_known:
            caveats.append(f"local demand for {bridge.target_title} is not published by OEWS (demand unknown)")
        if not route.route_known:
            caveats.append(f"the steps of the {route.target_title} licence are not in the data yet: months and fees "
                           f"are unknown; ask {((route.license or {}).get('board_name')) or 'the board'}")
        timeline, money = self._timeline(client, route, bridge)
        caveats += money.pop("caveats")
        est = sum(1 for s in route.steps if s.cost_basis == "estimate" and s.required == "yes")
        unk = sum(1 for s in route.steps if s.cost_basis == "unknown" and s.required == "yes")
        if est:
            caveats.append(f"{est} of the route's fees are estimates (ranges in the steps); the plan uses their low end")
        if unk:
            caveats.append(f"{unk} of the route's fees are unknown and counted as $0")
        if route.range_conditions:
            caveats.append(f"the route can take up to {format_range(route.months_to_first_job_max, None)} months and "
                           f"cost up to {_money(route.total_cost_usd_max)} if: " + "; ".join(route.range_conditions[:2]))
        caveats += [r for r in route.reasons if r.startswith(("the licence needs English", "English level unknown"))]
        caveats += list(route.caveats)
        client_info = {"onet_code": client.onet_code, "title": self.ranker.taxonomy.title(client.onet_code),
                       "state": route.state, "english": client.english, "years_experience": client.years_experience,
                       "budget_usd": client.budget_usd, "need_income_now": client.need_income_now,
                       "work_authorized": work_authorized, "graduation_year": graduation_year,
                       "passed": list(client.passed), "zip_code": client.zip_code}
        settings = asdict(cfg)
        return ClientPlan(
            client=client_info, route=route, route_note=route_note, bridge=bridge, bridge_note=bridge_note,
            alternatives=tuple(alternatives), timeline=tuple(timeline),
            months_to_first_paycheck=money["first_paycheck_month"], months_to_route=route.months_to_first_job,
            months_to_route_max=route.months_to_first_job_max,
            route_first_paycheck_month=money["route_first_paycheck_month"], loan=money["loan"],
            earnings=money["earnings"], caveats=tuple(dict.fromkeys(caveats)), settings=settings,
            data_versions=dict(route.data_versions))

    # --- money, month by month ---
    def _timeline(self, client: ClientContext, route: Pathway, bridge: Pathway | None):
        cfg = self.config
        H = float(cfg.horizon_months)
        caveats: list[str] = []
        # route steps (the low end: required steps), one after another from month 0
        segs = []   # (start, end, label, kind, paid_wage or None, fee, loan_eligible)
        t = 0.0
        paid_wage = (route.paid_step or {}).get("annual_wage_usd")
        if route.route_known:
            by_no = {s.step_no: s for s in route.steps}
            for no, months in route.low_end_steps:      # the route's low end: required steps, credited experience
                s = by_no[no]
                wage = (paid_wage or 0.0) if s.paid else None
                segs.append((t, t + months, s.name, s.kind, wage, s.cost_usd_min or 0.0, s.loan_eligible))
                t += months
            route_end = route.months_to_first_job if route.months_to_first_job is not None else t
            route_end = max(route_end, t)
        else:
            route_end = math.inf
        if route_end < math.inf:
            H = max(H, float(math.ceil(route_end)) + 1)   # the timeline reaches the route's end
        route_wage = route.median_annual_wage or 0.0
        # the bridge: its own entry steps from month 0, then paid work
        b_segs, b_start, b_wage = [], math.inf, 0.0
        if bridge is not None:
            tb = 0.0
            b_by_no = {s.step_no: s for s in bridge.steps}
            for no, months in bridge.low_end_steps:
                s = b_by_no[no]
                b_segs.append((tb, tb + months, s.name, s.cost_usd_min or 0.0, s.loan_eligible))
                tb += months
            b_start = max(tb, bridge.months_to_first_job or 0.0)
            b_wage = bridge.median_annual_wage or 0.0
        entry = self.ranker.wages.all_occupations(self.ranker.resolve_place(client)[1])
        entry_wage = entry.annual_p10 or 0.0
        # breakpoints where something changes
        pts = {0.0, H}
        for a, b, *_ in segs:
            pts.update((a, b))
        for a, b, *_ in b_segs:
            pts.update((a, b))
        for x in (b_start, route_end):
            if x < H:
                pts.add(x)
        pts = sorted(p for p in pts if 0 <= p <= H)

        first_paid = next((sg for sg in segs if sg[4] is not None), None)

        def state_at(m: float):
            step = next((sg for sg in segs if sg[0] <= m < sg[1]), None)
            if m >= route_end:
                return f"working as {route.target_title}", route_wage / 12, "route"
            if step is not None and step[4] is not None:
                return f"{step[2]} (paid)", step[4] / 12, "route"
            if first_paid is not None and m >= first_paid[0]:
                label = f"{route.target_title} route: {step[2]}" if step else f"{route.target_title} route"
                return f"{label} (still paid as in '{first_paid[2]}')", first_paid[4] / 12, "route"
            working = bridge is not None and m >= b_start and not (step and step[3] in FULL_TIME_KINDS)
            parts = []
            if step is not None:
                parts.append(f"{route.target_title} route: {step[2]}")
            bstep = next((sg for sg in b_segs if sg[0] <= m < sg[1]), None)
            if bstep is not None:
                parts.append(f"{bridge.target_title}: {bstep[2]}")
            if working:
                parts.append(f"working as {bridge.target_title}")
            if not parts:
                parts.append("looking for work" if route.kind != "relicensure" else f"{route.target_title} route")
            return "; ".join(parts), (b_wage / 12 if working else 0.0), ("bridge" if working else "none")

        # fees at the start of their step, in time order
        fees = sorted([(a, fee, el, f"{route.target_title}: {name}") for a, _, name, _, _, fee, el in segs if fee] +
                      [(a, fee, el, f"{bridge.target_title}: {name}") for a, _, name, fee, el in b_segs if fee])
        # the loan: eligible fees first, then living support in months without income, up to the cap
        cap = cfg.loan_cap_usd
        eligible = sum(f for _, f, el, _ in fees if el)
        fee_loan_left = min(cap, eligible)
        draws: list[tuple[float, float]] = []     # (month, USD)
        fee_loan = 0.0
        for a, f, el, _ in fees:
            if el and fee_loan_left > 0:
                x = min(f, fee_loan_left)
                fee_loan_left -= x
                fee_loan += x
                draws.append((a, x))
        support_left = cap - fee_loan
        living = 0.0
        phases = []
        for a, b in zip(pts, pts[1:]):
            if b <= a:
                continue
            act, income, source = state_at(a)
            studying = any(sg[0] <= a < sg[1] for sg in segs) or any(sg[0] <= a < sg[1] for sg in b_segs)
            phases.append([a, b, act, income, source, studying])
        no_income_until = None
        for a, b, act, income, _, studying in phases:
            if income == 0 and studying and support_left > 0:
                x = min(support_left, cfg.living_support_usd_per_month * (b - a))
                support_left -= x
                living += x
                draws.append((a, x))
            if income > 0 and no_income_until is None:
                no_income_until = a
        loan_amount = round(fee_loan + living, 2)
        total_fees = sum(f for _, f, _, _ in fees)
        budget = client.budget_usd or 0.0
        beyond_loan = max(0.0, total_fees - fee_loan)
        budget_used = min(budget, beyond_loan)
        out_of_pocket = beyond_loan - budget_used
        # timeline rows (fees, loan drawn and running total per phase)
        rows, running = [], 0.0
        for a, b, act, income, source, _ in phases:
            fee = sum(f for t0, f, _, _ in fees if a <= t0 < b)
            drawn = sum(v for m, v in draws if a <= m < b)
            running += income * (b - a) + drawn - fee
            rows.append({"start_month": round(a, 2), "end_month": round(b, 2), "activity": act,
                         "monthly_income_usd": round(income, 2), "fees_usd": round(fee, 2),
                         "loan_drawn_usd": round(drawn, 2), "running_total_usd": round(running, 2),
                         "income_source": source})
        # merge neighbours that are alike, and stop one phase after the route starts paying its wage
        merged: list[dict] = []
        for r in rows:
            if merged and merged[-1]["activity"] == r["activity"] and \
                    merged[-1]["monthly_income_usd"] == r["monthly_income_usd"] and not r["fees_usd"] and \
                    not r["loan_drawn_usd"]:
                merged[-1]["end_month"] = r["end_month"]
                merged[-1]["running_total_usd"] = r["running_total_usd"]
            else:
                merged.append(dict(r))
        end = next((i for i, r in enumerate(merged) if r["start_month"] >= route_end), None)
        timeline = merged if end is None else merged[:end + 1]

        def income_until(m: float, only: str | None = None) -> float:
            return sum(r["monthly_income_usd"] * (min(r["end_month"], m) - r["start_month"])
                       for r in rows if r["start_month"] < m and (only is None or r["income_source"] == only))

        earnings = {f"plan_{m}m_usd": round(income_until(m), 2) for m in (12, 36, 60)}
        earnings.update({f"entry_{m}m_usd": round(entry_wage / 12 * m, 2) for m in (12, 36, 60)})
        if bridge is not None:
            earnings.update({f"bridge_{m}m_usd": round(b_wage / 12 * max(0.0, m - b_start), 2) for m in (12, 36, 60)})
        else:
            earnings.update({f"bridge_{m}m_usd": None for m in (12, 36, 60)})
        earnings["entry_annual_wage_usd"] = entry_wage
        earnings["entry_wage_source"] = (f"{entry.release} all-occupations annual 10th percentile, "
                                         f"{entry.area_name or 'not published'}")
        payback = None
        for m in range(1, int(H) + 1):
            paid_fees = sum(f for t0, f, _, _ in fees if t0 < m)
            if income_until(m) - paid_fees >= entry_wage / 12 * m:
                payback = m
                break
        earnings["payback_month"] = payback
        earnings["assumptions"] = [
            "income is the OEWS median of each occupation in the client's area (the paid step's own wage during "
            "residency, internship or apprenticeship), from the month each phase starts",
            "route steps run one after another from month 0; the bridge job pays from the end of its own entry "
            "steps and stops during full-time education or residency",
            f"staying in an entry job earns the area's all-occupations 10th percentile (${entry_wage:,.0f}/year) "
            "from month 0",
            "payback month: the first month when the plan's income minus its fees reaches what an entry job "
            "would have paid"]
        schedule: dict[int, float] = {}
        for m, v in sorted(draws):
            if v > 0:
                schedule[int(m)] = round(schedule.get(int(m), 0.0) + v, 2)
        n, r = cfg.loan_term_months, cfg.loan_annual_rate / 12
        monthly = (loan_amount * r / (1 - (1 + r) ** -n) if r > 0 else loan_amount / n) if loan_amount else 0.0
        first_pay = no_income_until
        route_first = next((r["start_month"] for r in rows if r["income_source"] == "route" and
                            r["monthly_income_usd"] > 0), None)
        if route.route_known and (route.paid_step and not route.paid_step.get("annual_wage_usd")):
            caveats.append(f"pay during '{route.paid_step['step']}' is not in the data: counted as $0")
        loan = {
            "amount_usd": loan_amount, "cap_usd": cap, "fees_usd": round(total_fees, 2),
            "pays_for": {"fees_usd": round(fee_loan, 2), "living_support_usd": round(living, 2)},
            "schedule": schedule,
            "budget_used_usd": round(budget_used, 2), "out_of_pocket_usd": round(out_of_pocket, 2),
            "term_months": n, "annual_rate": cfg.loan_annual_rate, "monthly_payment_usd": round(monthly, 2),
            "repayment_starts_month": (math.ceil(first_pay) + 1) if (first_pay is not None and loan_amount) else None,
            "assumptions": [
                f"at most ${cap:,.0f} per client across the whole plan; it pays loan-eligible fees first, then "
                f"${cfg.living_support_usd_per_month:,.0f} a month of living support (rent, childcare) in months "
                f"without income",
                f"repaid over {n} months at {cfg.loan_annual_rate:.1%} a year, from the month after the first "
                "paycheck (the fund's terms are not published: these are settings)",
                "the client's budget pays the fees the loan does not cover before anything counts as out of pocket"],
        }
        money = {"loan": loan, "earnings": earnings, "first_paycheck_month": first_pay,
                 "route_first_paycheck_month": route_first, "caveats": caveats}
        return timeline, money
