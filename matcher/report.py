"""The impact report for a workforce centre: what a scored intake's plans add up to.

    report = build_report(read_table("scored.csv"), outcomes=read_table("outcomes.csv"),
                          config=ReportConfig(fund_capital=120_000, repayment_rate=0.9))
    report.to_dict()          # every figure and every chart's numbers (the JSON beside the HTML)
    report_html(report)       # one self-contained page: inline SVG charts, prints well

Built from the plan columns of ``matcher score`` alone (no plan is recomputed): caseload, money
(loan demand against the fund), projected earnings, outcomes against the plans (``--outcomes``),
and data quality.  Client ids only: names and notes never enter the report.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ConfigError, InputError

__all__ = ["ReportConfig", "Report", "build_report", "report_html", "read_outcomes", "OUTCOME_EVENTS"]

OUTCOME_EVENTS = ("exam_passed", "licence_obtained", "hired", "loan_drawn", "loan_repaid", "left_programme")
EVENT_ALIASES = {"license_obtained": "licence_obtained", "left_program": "left_programme"}
OUTCOME_COLUMNS = ("client_id", "date", "event", "occupation", "hourly_wage")
PROJECTION_MONTHS = 120          # how far the fund is projected forward
OVERDUE_GRACE_MONTHS = 1.0       # a planned milestone is overdue this long after its planned month
HOURS_PER_YEAR = 2080
MONTH_BINS = (0, 1, 3, 6, 12, 24, 36, 60)
TOP = 15                         # rows in each ranked table


@dataclass(frozen=True)
class ReportConfig:
    """``fund_capital`` the loan fund's capital (USD); ``repayment_rate`` the share of loans
    repaid; ``intake_per_month`` new clients a month for the fund's projection (None: the rate seen
    in the file); ``as_of`` the report's date (None: today)."""

    fund_capital: float = 120_000.0
    repayment_rate: float = 0.9
    intake_per_month: float | None = None
    as_of: date | None = None

    def __post_init__(self):
        problems = []
        if not (isinstance(self.fund_capital, (int, float)) and math.isfinite(self.fund_capital)
                and self.fund_capital >= 0):
            problems.append("fund_capital must be a non-negative amount")
        if not (isinstance(self.repayment_rate, (int, float)) and 0 <= self.repayment_rate <= 1):
            problems.append("repayment_rate must be between 0 and 1")
        if self.intake_per_month is not None and not (
                isinstance(self.intake_per_month, (int, float)) and math.isfinite(self.intake_per_month)
                and self.intake_per_month > 0):
            problems.append("intake_per_month must be a positive number")
        if problems:
            raise ConfigError(problems)


@dataclass(frozen=True)
class Report:
    config: ReportConfig
    as_of: str
    summary: dict
    charts: dict                   # chart id -> {"title", "kind", "labels", "values" or "series", ...}
    tables: dict                   # table id -> {"title", "columns", "rows"}
    assumptions: tuple
    messages: tuple
    versions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"as_of": self.as_of, "config": {k: (v.isoformat() if isinstance(v, date) else v)
                                                for k, v in self.config.__dict__.items()},
                "summary": self.summary, "charts": self.charts, "tables": self.tables,
                "assumptions": list(self.assumptions), "messages": list(self.messages), "versions": self.versions}


# --- reading -------------------------------------------------------------------------------------
def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype(str).str.replace(r"[$,]", "", regex=True).str.strip(), errors="coerce")


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.astype(str).str.strip().replace("", None), errors="coerce", format="mixed")


def read_outcomes(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Check an outcomes table: columns client_id,date,event,occupation,hourly_wage[,amount_usd,note].
    A bad row or an unknown event is a message (by line), not a failure; returns the good rows."""
    missing = [c for c in ("client_id", "date", "event") if c not in df.columns]
    if missing:
        raise InputError(f"the outcomes file lacks the columns {', '.join(missing)} (expected "
                         f"{','.join(OUTCOME_COLUMNS)}[,amount_usd,note])")
    out = pd.DataFrame({"client_id": df["client_id"].astype(str).str.strip(),
                        "event": df["event"].astype(str).str.strip().str.lower(),
                        "date": _dates(df["date"]),
                        "occupation": df["occupation"].astype(str).str.strip() if "occupation" in df else "",
                        "hourly_wage": _num(df["hourly_wage"]) if "hourly_wage" in df else np.nan,
                        "amount_usd": _num(df["amount_usd"]) if "amount_usd" in df else np.nan})
    out["event"] = out["event"].replace(EVENT_ALIASES)
    line = df["__line__"].astype(str) if "__line__" in df.columns else pd.Series(range(2, len(df) + 2)).astype(str)
    msgs = []
    bad = np.zeros(len(out), bool)
    for i, (cid, ev, d) in enumerate(zip(out["client_id"], out["event"], out["date"])):
        why = []
        if not cid:
            why.append("no client_id")
        if ev not in OUTCOME_EVENTS:
            why.append(f"unknown event {ev[:30]!r} (one of {', '.join(OUTCOME_EVENTS)})")
        if pd.isna(d):
            why.append("no readable date")
        if why:
            bad[i] = True
            msgs.append(f"outcomes line {line.iloc[i]}: " + "; ".join(why) + "; row ignored")
    return out[~bad].reset_index(drop=True), msgs


_ROUTE_RE = re.compile(r"^(\w+): (.*?) \((\d{2}-\d{4}\.\d{2})\)")
_OPENING_RE = re.compile(r"^(.*) \[([^\]]+)\] \(score [\d.]+\) \((apply now|after licence)\)$")


def _route_parts(cell: str) -> tuple[str, str, str]:
    m = _ROUTE_RE.match(str(cell or ""))
    return (m.group(1), m.group(2), m.group(3)) if m else ("", "", "")


def _months_index(d: pd.Series, origin: pd.Timestamp) -> np.ndarray:
    return ((d.dt.year - origin.year) * 12 + (d.dt.month - origin.month)).to_numpy(float)


def _hist(values: pd.Series, bins=MONTH_BINS) -> tuple[list[str], list[int]]:
    v = values.dropna().to_numpy(float)
    labels, counts = [], []
    for lo, hi in zip(bins, list(bins[1:]) + [math.inf]):
        labels.append(f"{lo:g}-{hi:g}" if hi != math.inf else f"{lo:g}+")
        counts.append(int(((v >= lo) & (v < hi)).sum()))
    return labels, counts


def _counts(s: pd.Series, top: int = TOP, empty: str = "not recorded") -> tuple[list[str], list[int]]:
    vc = s.fillna("").astype(str).str.strip().replace("", empty).value_counts()
    vc = vc.sort_values(ascending=False, kind="stable")
    if len(vc) > top:
        vc = pd.concat([vc.iloc[:top - 1], pd.Series({"others": int(vc.iloc[top - 1:].sum())})])
    return [str(k) for k in vc.index], [int(x) for x in vc.to_numpy()]


def _bar(title: str, labels, values, unit: str = "clients") -> dict:
    return {"title": title, "kind": "bar", "unit": unit, "labels": list(labels), "values": [float(v) for v in values]}


# --- the fund -----------------------------------------------------------------------------------
def _fund_path(draw_by_month: np.ndarray, repay_by_month: np.ndarray, capital: float, rate: float) -> np.ndarray:
    """The fund's balance at the end of each month: capital - draws + repayments x rate."""
    return capital - np.cumsum(draw_by_month) + rate * np.cumsum(repay_by_month)


def _client_flows(schedule: pd.Series, payment: pd.Series, start: pd.Series, term: pd.Series,
                  horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Per client: loan draws and scheduled repayments by month since intake (n x horizon)."""
    n = len(schedule)
    draws = np.zeros((n, horizon))
    repay = np.zeros((n, horizon))
    for i, cell in enumerate(schedule.astype(str)):
        for part in cell.split("|"):
            m, _, v = part.partition(":")
            try:
                mi, val = int(float(m)), float(v)
            except ValueError:
                continue
            if 0 <= mi < horizon and math.isfinite(val):
                draws[i, mi] += val
    pay, st, tm = payment.to_numpy(float), start.to_numpy(float), term.to_numpy(float)
    for i in np.flatnonzero(np.isfinite(pay) & (pay > 0) & np.isfinite(st) & np.isfinite(tm)):
        a, b = int(st[i]), int(min(horizon, st[i] + tm[i]))
        if a < horizon:
            repay[i, a:b] = pay[i]
    return draws, repay


def _projection(avg_draw: np.ndarray, avg_repay: np.ndarray, per_month: float, capital: float, rate: float,
                months: int = PROJECTION_MONTHS) -> np.ndarray:
    """The fund's balance if ``per_month`` clients like these start every month."""
    d = np.convolve(np.full(months, per_month), avg_draw)[:months]
    r = np.convolve(np.full(months, per_month), avg_repay)[:months]
    return _fund_path(d, r, capital, rate)


def _first_negative(path: np.ndarray) -> int | None:
    hits = np.flatnonzero(path < 0)
    return int(hits[0]) if len(hits) else None


# --- the report ---------------------------------------------------------------------------------
def build_report(scored: pd.DataFrame, outcomes: pd.DataFrame | None = None, config: ReportConfig | None = None,
                 taxonomy=None) -> Report:
    """The report for a scored intake (the output of ``matcher score``), not modified."""
    cfg = config or ReportConfig()
    as_of = pd.Timestamp(cfg.as_of or date.today())
    if "client_id" not in scored.columns or "status" not in scored.columns:
        raise InputError("this is not a scored intake file: it lacks client_id and status (run matcher score first)")
    df = scored.reset_index(drop=True)
    n = len(df)
    if n == 0:
        raise InputError("the scored file has no rows")
    msgs: list[str] = []
    col = lambda c: df[c].astype(str) if c in df.columns else pd.Series([""] * n)  # noqa: E731
    num = lambda c: _num(df[c]) if c in df.columns else pd.Series([np.nan] * n)  # noqa: E731
    cid = col("client_id").str.strip()
    cid = cid.where(cid != "", pd.Series([f"row {i + 1}" for i in range(n)]))

    # dates: intake_date, else scored_on, else as_of
    intake = _dates(col("intake_date")) if "intake_date" in df.columns else pd.Series([pd.NaT] * n)
    scored_on = _dates(col("scored_on"))
    when = intake.fillna(scored_on).fillna(as_of)
    if intake.isna().all():
        msgs.append("no intake_date column: the scoring date (scored_on) stands for each client's intake date"
                    if scored_on.notna().any() else "no intake_date or scored_on: the report date stands for intake")
    elif intake.isna().any():
        msgs.append(f"{int(intake.isna().sum())} rows without intake_date: their scoring date is used")
    origin = when.min().to_period("M").to_timestamp()
    start_month = _months_index(when, origin)

    # --- caseload ---
    if taxonomy is None:
        from .taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
    occ = taxonomy.occupations.set_index("onet_code")
    code = col("onet_code").str.strip()
    sector = code.map(occ["sector"]).fillna("")
    group = code.map(occ["soc_major_title"]).fillna("")
    kind = col("plan_route_kind").str.strip()
    licence = col("plan_licence_id").str.strip()
    ptime = num("plan_months_to_first_paycheck")
    rtime = num("plan_months_to_route")
    charts: dict = {}
    for key, title, series in (("by_country", "Clients by country", col("country")),
                               ("by_language", "Clients by language", col("language")),
                               ("by_sector", "Clients by sector of their occupation", sector),
                               ("by_group", "Clients by occupation group", group),
                               ("by_credential", "Clients by credential level", col("credential_type")),
                               ("by_english", "Clients by English level", col("english_level_used")),
                               ("by_route_kind", "Routes: relicensure, direct, alternative", kind),
                               ("by_licence", "Licences most needed", licence[kind == "relicensure"])):
        labels, values = _counts(series)
        charts[key] = _bar(title, labels, values)
    for key, title, series in (("months_to_first_paycheck", "Months to the first paycheck", ptime),
                               ("months_to_route", "Months to the route's first paycheck", rtime)):
        labels, values = _hist(series)
        charts[key] = _bar(title, labels, values)
        charts[key]["unit"] = "clients"
    bridge_titles = col("plan_bridge").map(lambda c: _route_parts(c)[1])
    charts["bridges"] = _bar("Bridge jobs planned for the most clients", *_counts(bridge_titles[bridge_titles != ""]))
    opening_cols = [c for c in df.columns if re.fullmatch(r"opening_\d+", str(c))]
    now_by_opening: dict[str, int] = {}
    later_by_opening: dict[str, int] = {}
    has_now = np.zeros(n, bool)
    for c in opening_cols:
        for i, cell in enumerate(df[c].astype(str)):
            m = _OPENING_RE.match(cell.strip())
            if not m:
                continue
            label = f"{m.group(1)} [{m.group(2)}]"
            if m.group(3) == "apply now":
                now_by_opening[label] = now_by_opening.get(label, 0) + 1
                has_now[i] = True
            else:
                later_by_opening[label] = later_by_opening.get(label, 0) + 1
    top_now = sorted(now_by_opening.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    charts["openings_now"] = _bar("Openings to apply to now that serve the most clients",
                                  [k for k, _ in top_now], [v for _, v in top_now])
    scored_ok = col("status").isin(["ok", "partial"])
    no_opening = cid[scored_ok & ~has_now].tolist() if opening_cols else []

    # --- money ---
    fees, loan, oop = num("plan_fees_usd"), num("plan_loan_usd"), num("plan_out_of_pocket_usd")
    horizon = PROJECTION_MONTHS
    draws, repay = _client_flows(col("plan_loan_schedule"), num("plan_loan_monthly_payment_usd"),
                                 num("plan_loan_repayment_start_month"), num("plan_loan_term_months"), horizon)
    span = int(start_month.max()) + horizon
    cal_draw = np.zeros(span)
    cal_repay = np.zeros(span)
    for i in range(n):
        s0 = int(start_month[i])
        cal_draw[s0:s0 + horizon] += draws[i]
        cal_repay[s0:s0 + horizon] += repay[i]
    months_shown = min(span, int(start_month.max()) + 60)
    balance = _fund_path(cal_draw, cal_repay, cfg.fund_capital, cfg.repayment_rate)
    month_labels = [(origin + pd.DateOffset(months=k)).strftime("%Y-%m") for k in range(months_shown)]
    charts["loan_demand"] = {"title": "Loan demand and repayments by month (this caseload)", "kind": "line",
                             "unit": "USD", "labels": month_labels,
                             "series": {"loans drawn": [round(float(x), 2) for x in cal_draw[:months_shown]],
                                        "repayments expected": [round(float(x) * cfg.repayment_rate, 2)
                                                                for x in cal_repay[:months_shown]],
                                        "fund balance": [round(float(x), 2) for x in balance[:months_shown]]}}
    borrowers = (loan.fillna(0) > 0)
    per_month_seen = n / max(1, int(start_month.max()) + 1)
    per_month = cfg.intake_per_month or per_month_seen
    avg_draw = draws.mean(axis=0)
    avg_repay = repay.mean(axis=0)
    proj = _projection(avg_draw, avg_repay, per_month, cfg.fund_capital, cfg.repayment_rate)
    dry = _first_negative(proj)
    # the repayment rate that keeps the fund above zero for the projection (bisection)
    lo, hi = 0.0, 1.0
    if _first_negative(_projection(avg_draw, avg_repay, per_month, cfg.fund_capital, 1.0)) is not None:
        needed = None
    else:
        for _ in range(30):
            mid = (lo + hi) / 2
            if _first_negative(_projection(avg_draw, avg_repay, per_month, cfg.fund_capital, mid)) is None:
                hi = mid
            else:
                lo = mid
        needed = round(hi, 3)
    outstanding = np.cumsum(draws, axis=1) - cfg.repayment_rate * np.cumsum(repay, axis=1)
    peak_per_borrower = float(outstanding.max(axis=1)[borrowers.to_numpy()].mean()) if borrowers.any() else 0.0
    carry = int(cfg.fund_capital // peak_per_borrower) if peak_per_borrower > 0 else None
    charts["fund_projection"] = {"title": f"The fund if {per_month:.1f} clients like these start every month",
                                 "kind": "line", "unit": "USD",
                                 "labels": [f"month {k}" for k in range(PROJECTION_MONTHS)],
                                 "series": {"fund balance": [round(float(x), 2) for x in proj]}}
    fee_by_licence = (pd.DataFrame({"licence": licence, "fees": fees})[(kind == "relicensure") & fees.notna()]
                      .groupby("licence")["fees"].agg(["count", "mean", "sum"]).sort_values("sum", ascending=False))
    charts["fees_by_licence"] = _bar("Fees by licence (total for the caseload)", list(fee_by_licence.index[:TOP]),
                                     [round(float(x), 2) for x in fee_by_licence["sum"].iloc[:TOP]], unit="USD")
    oop_labels, oop_values = _hist(oop.fillna(0), bins=(0, 1, 250, 500, 1000, 2000, 5000))
    charts["out_of_pocket"] = _bar("Out of pocket after the loan (USD)", oop_labels, oop_values)

    # --- projected impact ---
    earn = {m: (num(f"plan_earnings_{m}m"), num(f"plan_entry_earnings_{m}m")) for m in (12, 36, 60)}
    impact_rows = []
    for m, (plan_e, entry_e) in earn.items():
        ok = plan_e.notna() & entry_e.notna()
        impact_rows.append({"months": m, "clients": int(ok.sum()), "plan_total": round(float(plan_e[ok].sum()), 2),
                            "entry_total": round(float(entry_e[ok].sum()), 2),
                            "gain_total": round(float((plan_e - entry_e)[ok].sum()), 2),
                            "gain_per_client": round(float((plan_e - entry_e)[ok].mean()), 2) if ok.any() else 0.0})
    charts["earnings"] = {"title": "Expected earnings of the cohort: the plans against entry jobs", "kind": "bars2",
                          "unit": "USD", "labels": [f"{r['months']} months" for r in impact_rows],
                          "series": {"plans": [r["plan_total"] for r in impact_rows],
                                     "entry jobs": [r["entry_total"] for r in impact_rows]}}

    # --- outcomes ---
    tables: dict = {}
    planned_route = when + pd.to_timedelta((rtime.clip(upper=1200) * 30.44).round(), unit="D")
    planned_pay = when + pd.to_timedelta((ptime.clip(upper=1200) * 30.44).round(), unit="D")
    outcome_summary = None
    if outcomes is not None:
        ev, omsgs = read_outcomes(outcomes)
        msgs += omsgs
        known = set(cid)
        unknown_ids = sorted(set(ev["client_id"]) - known)
        if unknown_ids:
            msgs.append(f"{len(unknown_ids)} outcome client ids are not in the scored file; their events are ignored")
            ev = ev[ev["client_id"].isin(known)]
        first = lambda e: ev[ev["event"] == e].groupby("client_id")["date"].min()  # noqa: E731
        lic, hired, left = first("licence_obtained"), first("hired"), first("left_programme")
        hired_wage = ev[ev["event"] == "hired"].sort_values("date").groupby("client_id")["hourly_wage"].last()
        drawn = ev[ev["event"] == "loan_drawn"]["amount_usd"].sum()
        repaid = ev[ev["event"] == "loan_repaid"]["amount_usd"].sum()
        rows, overdue = [], []
        grace = pd.Timedelta(days=30.44 * OVERDUE_GRACE_MONTHS)
        lic_d, hired_d, left_d, wage_d = lic.to_dict(), hired.to_dict(), left.to_dict(), hired_wage.to_dict()
        route_due = (planned_route + grace).tolist()
        pay_due = (planned_pay + grace).tolist()
        when_l, pr_l, pp_l = when.tolist(), planned_route.tolist(), planned_pay.tolist()
        r_ok, p_ok = np.isfinite(rtime.to_numpy(float)), np.isfinite(ptime.to_numpy(float))
        entry_annual = earn[12][1].to_numpy(float)
        cids, kinds, lics, ok_l = cid.tolist(), kind.tolist(), licence.tolist(), scored_ok.to_numpy()
        for i in range(n):
            if not ok_l[i]:
                continue
            c = cids[i]
            got_lic, got_job, gone = lic_d.get(c), hired_d.get(c), left_d.get(c)
            need_lic = kinds[i] == "relicensure"
            late = []
            if gone is None:
                if need_lic and got_lic is None and r_ok[i] and as_of > route_due[i]:
                    late.append("licence")
                if got_job is None and p_ok[i] and as_of > pay_due[i]:
                    late.append("first job")
            wage = wage_d.get(c)
            gain = (float(wage) * HOURS_PER_YEAR - float(entry_annual[i])
                    if wage is not None and pd.notna(wage) and np.isfinite(entry_annual[i]) else None)
            rows.append({"client_id": c, "route": kinds[i], "licence": lics[i],
                         "planned_licence": pr_l[i].date().isoformat() if need_lic and r_ok[i] else "",
                         "licence_obtained": got_lic.date().isoformat() if got_lic is not None else "",
                         "planned_first_job": pp_l[i].date().isoformat() if p_ok[i] else "",
                         "hired": got_job.date().isoformat() if got_job is not None else "",
                         "months_to_licence": round((got_lic - when_l[i]).days / 30.44, 1) if got_lic is not None else None,
                         "months_to_job": round((got_job - when_l[i]).days / 30.44, 1) if got_job is not None else None,
                         "annual_wage_gain_vs_entry": round(gain, 2) if gain is not None else None,
                         "left_programme": gone is not None, "overdue": ", ".join(late)})
            if late:
                overdue.append({"client_id": c, "overdue": ", ".join(late), "route": kinds[i], "licence": lics[i]})
        out_df = pd.DataFrame(rows)
        tables["outcomes_by_client"] = {"title": "Planned against achieved, per client",
                                        "columns": list(out_df.columns) if len(out_df) else [],
                                        "rows": out_df.replace({np.nan: None}).to_dict("records")}
        tables["overdue"] = {"title": "Clients overdue against their plan (for their navigator)",
                             "columns": ["client_id", "overdue", "route", "licence"], "rows": overdue}
        by_route = (out_df.assign(licensed=out_df["licence_obtained"] != "", hired_=out_df["hired"] != "")
                    .groupby("route").agg(clients=("client_id", "count"), licensed=("licensed", "sum"),
                                          hired=("hired_", "sum")) if len(out_df) else pd.DataFrame())
        charts["outcomes_by_route"] = {"title": "Which routes deliver: clients, licensed, hired", "kind": "bars2",
                                       "unit": "clients", "labels": [str(x) for x in by_route.index],
                                       "series": {"clients": [int(x) for x in by_route.get("clients", [])],
                                                  "licensed": [int(x) for x in by_route.get("licensed", [])],
                                                  "hired": [int(x) for x in by_route.get("hired", [])]}}
        # which bridges deliver: clients planned into each bridge job, and those hired into its occupation
        hired_occ = ev[ev["event"] == "hired"].groupby("client_id")["occupation"].agg(lambda x: set(x)).to_dict()
        bparts = col("plan_bridge").map(_route_parts)
        b_title = bparts.map(lambda p: p[1])
        b_code = bparts.map(lambda p: p[2])
        planned_b: dict[str, int] = {}
        hired_b: dict[str, int] = {}
        for c, t, bc, ok_ in zip(cid, b_title, b_code, scored_ok):
            if not t or not ok_:
                continue
            planned_b[t] = planned_b.get(t, 0) + 1
            if bc and bc in hired_occ.get(c, ()):
                hired_b[t] = hired_b.get(t, 0) + 1
        top_b = sorted(planned_b, key=lambda t: (-planned_b[t], t))[:TOP]
        charts["bridges_deliver"] = {"title": "Which bridges deliver: clients planned, hired into the bridge job",
                                     "kind": "bars2", "unit": "clients", "labels": top_b,
                                     "series": {"planned": [planned_b[t] for t in top_b],
                                                "hired": [hired_b.get(t, 0) for t in top_b]}}
        gains = out_df["annual_wage_gain_vs_entry"].dropna() if len(out_df) else pd.Series(dtype=float)
        outcome_summary = {"events": int(len(ev)), "licensed": int(len(lic)), "hired": int(len(hired)),
                           "left_programme": int(len(left)), "overdue": len(overdue),
                           "median_months_to_licence": _median(out_df.get("months_to_licence")),
                           "median_months_to_job": _median(out_df.get("months_to_job")),
                           "median_annual_wage_gain": _median(gains),
                           "loans_drawn_usd": round(float(drawn), 2), "loans_repaid_usd": round(float(repaid), 2),
                           "fund_position_usd": round(cfg.fund_capital - float(drawn) + float(repaid), 2)}

    # --- data quality ---
    status = col("status").str.strip()
    charts["data_quality"] = _bar("Rows by status (ok: scored; partial: scored, check; error: not scored)",
                                  *_counts(status))
    reasons = (col("messages")[status != "ok"].str.split("; ").explode().str.replace(r"'[^']*'", "'…'", regex=True)
               .str.replace(r"\d+(\.\d+)?", "#", regex=True).str.strip())
    r_labels, r_values = _counts(reasons[reasons != ""], top=12, empty="")
    tables["quality_reasons"] = {"title": "Why rows needed review or failed (values masked)", "columns": ["reason", "rows"],
                                 "rows": [{"reason": a, "rows": b} for a, b in zip(r_labels, r_values)]}
    tables["no_opening_now"] = {"title": "Clients with no opening to apply to now", "columns": ["client_id"],
                                "rows": [{"client_id": c} for c in no_opening]}

    summary = {
        "clients": n, "scored": int(scored_ok.sum()), "errors": int((status == "error").sum()),
        "partial": int((status == "partial").sum()), "relicensure_routes": int((kind == "relicensure").sum()),
        "borrowers": int(borrowers.sum()), "loan_demand_usd": round(float(loan.fillna(0).sum()), 2),
        "fees_usd": round(float(fees.fillna(0).sum()), 2), "out_of_pocket_usd": round(float(oop.fillna(0).sum()), 2),
        "median_months_to_first_paycheck": _median(ptime), "median_months_to_route": _median(rtime),
        "clients_per_month_seen": round(per_month_seen, 2), "clients_per_month_projected": round(per_month, 2),
        "clients_the_fund_can_carry_at_once": carry, "peak_outstanding_per_borrower_usd": round(peak_per_borrower, 2),
        "fund_runs_dry_in_month": dry, "repayment_rate_needed": needed,
        "lowest_fund_balance_usd": round(float(balance.min()), 2),
        "earnings": impact_rows, "clients_without_an_opening_now": len(no_opening),
        "outcomes": outcome_summary,
    }
    assumptions = (
        f"Intake month: the intake_date column, else the scoring date (scored_on); months counted from "
        f"{origin.strftime('%Y-%m')}.",
        f"Loans are drawn as each plan's loan schedule says and repaid in equal monthly payments from the plan's "
        f"repayment month; a share of {cfg.repayment_rate:.0%} of repayments comes back.",
        f"The fund starts with ${cfg.fund_capital:,.0f}; the projection repeats this caseload's average client "
        f"{per_month:.1f} times a month for {PROJECTION_MONTHS} months.",
        "Earnings are the plans' own month-by-month income (bridge job, then the route's occupation at the OEWS "
        "median of the area) against staying in an entry job at its OEWS wage; no raises, no inflation, no taxes.",
        f"A planned milestone is overdue {OVERDUE_GRACE_MONTHS:g} month after its planned month when no outcome event "
        f"records it and the client has not left the programme; a month is 30.44 days.",
        "Client ids only: names and notes are never read into this report.",
    )
    versions = {"taxonomy": taxonomy.version}
    if "taxonomy_version" in df.columns:
        versions["scored_with"] = sorted(set(col("taxonomy_version")) - {""})[:3]
    return Report(cfg, as_of.date().isoformat(), summary, charts, tables, assumptions, tuple(msgs), versions)


def _median(s) -> float | None:
    if s is None:
        return None
    s = pd.to_numeric(pd.Series(s), errors="coerce").dropna()
    return round(float(s.median()), 2) if len(s) else None


# --- HTML ---------------------------------------------------------------------------------------
PALETTE = ("#1f5f99", "#b3401b", "#2e7d4f", "#6b4c9a", "#8a6d1c")


def _svg_bar(chart: dict, width: int = 440) -> dict:
    labels, values = chart["labels"], chart["values"]
    row_h, left = 20, 180
    h = max(1, len(labels)) * row_h + 10
    top = max(values) if values else 0
    scale = (width - left - 70) / top if top > 0 else 0
    bars = []
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = 5 + i * row_h
        bars.append({"y": y, "ty": y + 14, "w": round(v * scale, 1), "label": str(lab)[:30],
                     "value": f"${v:,.0f}" if chart.get("unit") == "USD" else f"{v:,.0f}"})
    return {"w": width, "h": h, "left": left, "bars": bars}


def _svg_lines(chart: dict, width: int = 640, height: int = 220) -> dict:
    series = chart["series"]
    n = len(chart["labels"])
    allv = [v for vs in series.values() for v in vs] or [0]
    lo, hi = min(0.0, min(allv)), max(allv) or 1.0
    left, right, top, bottom = 70, width - 10, 10, height - 30
    xs = lambda i: left + (right - left) * (i / max(1, n - 1))  # noqa: E731
    ys = lambda v: bottom - (bottom - top) * ((v - lo) / (hi - lo if hi > lo else 1))  # noqa: E731
    paths = []
    for k, (name, vs) in enumerate(series.items()):
        pts = " ".join(f"{'M' if i == 0 else 'L'}{xs(i):.1f},{ys(v):.1f}" for i, v in enumerate(vs))
        paths.append({"d": pts, "color": PALETTE[k % len(PALETTE)], "name": name})
    ticks = [{"y": round(ys(v), 1), "label": f"${v:,.0f}"} for v in np.linspace(lo, hi, 5)]
    step = max(1, n // 6)
    xt = [{"x": round(xs(i), 1), "label": chart["labels"][i]} for i in range(0, n, step)]
    return {"w": width, "h": height, "paths": paths, "ticks": ticks, "xticks": xt, "left": left, "right": right,
            "bottom": bottom, "zero": round(ys(0), 1)}


def _svg_bars2(chart: dict, width: int = 640, height: int = 220) -> dict:
    series = chart["series"]
    labels = chart["labels"]
    allv = [v for vs in series.values() for v in vs] or [0]
    hi = max(allv) or 1.0
    left, bottom, top = 70, height - 30, 10
    group_w = (width - left - 10) / max(1, len(labels))
    k = max(1, len(series))
    bw = group_w * 0.8 / k
    rects = []
    for j, (name, vs) in enumerate(series.items()):
        for i, v in enumerate(vs):
            hgt = (bottom - top) * v / hi
            rects.append({"x": round(left + i * group_w + j * bw + group_w * 0.1, 1), "y": round(bottom - hgt, 1),
                          "w": round(bw, 1), "h": round(hgt, 1), "color": PALETTE[j % len(PALETTE)],
                          "title": f"{name}, {labels[i]}: {v:,.0f}"})
    return {"w": width, "h": height, "rects": rects, "bottom": bottom, "left": left,
            "legend": [{"name": n_, "color": PALETTE[j % len(PALETTE)]} for j, n_ in enumerate(series)],
            "xlabels": [{"x": round(left + i * group_w + group_w / 2, 1), "label": lab} for i, lab in enumerate(labels)]}


def report_html(report: Report, stylesheet_href: str | None = None) -> str:
    """The report as one page (inline SVG charts; its stylesheet inlined unless linked)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = lambda v: "" if v is None else f"${float(v):,.0f}"
    env.filters["n"] = lambda v: "" if v is None else (f"{v:,.0f}" if isinstance(v, (int, float)) else str(v))
    geo = {}
    for key, ch in report.charts.items():
        geo[key] = (_svg_bar(ch) if ch["kind"] == "bar" else _svg_lines(ch) if ch["kind"] == "line" else _svg_bars2(ch))
    css = "" if stylesheet_href else (Path(__file__).resolve().parent / "static" / "report.css").read_text(encoding="utf-8")
    return env.get_template("report.html").render(r=report, s=report.summary, charts=report.charts, geo=geo,
                                                  tables=report.tables, css=css, stylesheet_href=stylesheet_href or "")
