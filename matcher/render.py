"""The printable one-page HTML plan a career navigator hands to a client.

``plan_html(plan_dict)`` renders ``templates/plan.html`` (Jinja2, autoescaped) from
``ClientPlan.to_dict()``; ``render_plan(plan_dict, lang, names)`` does the same in one of the
project's languages (``matcher.i18n``).  Every fixed phrase of the page is in ``PHRASES_EN``; a
translation is another dict with the same keys passed as ``phrases`` (a missing key falls back to
English), with ``lang`` and ``direction`` ("ltr" or "rtl") for the ``<html>`` element, and
``names`` (code -> the occupation's name in that language, or None) puts the client's language
beside the English occupation titles.  The page's content is ``templates/_plan.html``, which the
web app's client page includes too; its stylesheet is ``static/plan.css``, inlined in the page
unless ``stylesheet_href`` links it.  The month-by-month chart is an inline SVG whose geometry is
computed here, so the page needs no script, font or image from elsewhere.
"""
from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["PHRASES_EN", "plan_context", "plan_html", "render_plan"]

PHRASES_EN: dict[str, str] = {
    # header
    "title": "Your career plan",
    "occupation_before": "Your occupation",
    "state": "State",
    "zip": "ZIP",
    "date": "Date",
    "data_versions": "Data versions",
    "summary_first_paycheck": "First paycheck",
    "summary_goal": "Working in the goal occupation",
    "summary_loan": "Loan from the fund",
    "summary_out_of_pocket": "Out of pocket",
    # route
    "route": "Your route",
    "route_kind": "Route",
    "kind_relicensure": "regain your licence",
    "kind_direct": "work again in your occupation",
    "kind_alternative": "a related career",
    "kind_bridge": "a job that starts soon",
    "goal": "Goal",
    "licence": "Licence",
    "board": "Licensing board",
    "licence_only_if": "A licence is needed only {condition}",
    "why": "Why",
    "months_to_first_paycheck": "Months to your first paycheck",
    "months_to_route": "Months until you work as {title}",
    "fees": "Fees",
    "fees_unknown_steps": "{n} fee(s) unknown",
    "pay": "Typical pay",
    "per_year": "{amount} a year",
    "per_month": "{amount} a month",
    "in_area": "in {area}",
    "steps": "Steps",
    "step": "Step",
    "required": "Needed?",
    "req_yes": "required",
    "req_no": "optional",
    "req_conditional": "only if",
    "cost": "Cost",
    "months": "Months",
    "n_months": "{n} months",
    "one_month": "1 month",
    "source": "Source",
    "as_of_checked": "checked {date}",
    "as_of_source": "dated {date}",
    "unknown": "unknown",
    "basis_estimate": "estimate",
    "basis_confirmed": "confirmed",
    "basis_unknown": "unknown",
    "steps_unknown": ("The steps of this licence are not in our data yet, so months and fees are unknown: "
                      "ask the board."),
    "no_steps": "No licence steps: you can look for work now.",
    "steps_done": "Already done",
    "done_by": "counted from {by}",
    # bridge
    "bridge": "A job to earn in meanwhile",
    "pays_from": "Pays from about month {months}",
    "its_steps": "Steps to start",
    # alternatives
    "alternatives": "Alternatives",
    "occupation": "Occupation",
    "reason": "Why it fits",
    "no_alternatives": "No alternatives in the data.",
    # month by month
    "timeline": "Month by month",
    "chart_title": "Income, fees and loan, month by month",
    "chart_desc": ("Monthly income from month 0 to month {end}: {income}. Fees paid: {fees} in total. "
                   "Loan drawn: {loan} in total."),
    "chart_income_at": "{amount} a month from month {month}",
    "income_line": "income a month",
    "fees_bar": "fees paid",
    "loan_bar": "loan drawn",
    "chart_lumps": "fees and loan",
    "route_pays": "goal job pays",
    "month_n": "month {n}",
    "months_axis": "months from today",
    "phase_months": "Months",
    "activity": "What you do",
    "on_route": "Route: {title}",
    "in_job": "Job meanwhile: {title}",
    "monthly_income": "Income a month",
    "loan_drawn": "Loan drawn",
    # money
    "money": "Money",
    "loan": "Loan from the fund",
    "loan_of_cap": "{amount} (at most {cap})",
    "pays_for": "It pays for",
    "pays_fees": "fees {amount}",
    "pays_living": "living support {amount}",
    "schedule": "Paid out",
    "repayment": "Repayment",
    "repayment_text": "{amount} a month for {term} months at {rate} a year, from month {start}",
    "no_repayment": "nothing to repay",
    "total_fees": "Fees in this plan",
    "budget_used": "From your own budget",
    "out_of_pocket": "Still to find (out of pocket)",
    "earnings": "Money earned",
    "after_months": "{n} months",
    "this_plan": "This plan",
    "entry_job": "Staying in an entry job",
    "bridge_only": "The bridge job only",
    "payback": "Ahead of an entry job (after fees) from",
    "payback_never": "not within 60 months",
    "assumptions": "Assumptions",
    # end
    "things_to_know": "Things to know",
    "sources": "Sources",
    "none": "none",
    "not_applicable": "—",
    "orientation_notice": ("This plan is an orientation to prepare your talk with your career navigator. It is not "
                           "official advice and not a legal or immigration opinion. Fees and rules change: check "
                           "with the licensing board before you pay or apply."),
}

COLORS = {"income": "#1f5f99", "income_fill": "#dbe8f5", "fees": "#b3401b", "loan": "#2e7d4f",
          "axis": "#333333", "grid": "#d9d9d9", "text": "#222222", "marker": "#6b4c9a"}


# --- formatting -------------------------------------------------------------------------------

def _num(x):
    if x is None or isinstance(x, bool):
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _months(x) -> str:
    x = _num(x)
    return "" if x is None else f"{round(x, 2):g}"


def _money(x, cents: bool = False) -> str:
    x = _num(x)
    if x is None:
        return ""
    if cents and round(x, 2) != round(x):
        return f"${x:,.2f}"
    return f"${x:,.0f}"


class _Fmt:
    """Formatting with the page's phrases (the unknown / not-applicable words)."""

    def __init__(self, t: dict):
        self.t = t

    def money(self, x, cents: bool = False) -> str:
        return _money(x, cents) or self.t["unknown"]

    def money_range(self, lo, hi=None) -> str:
        lo, hi = _num(lo), _num(hi)
        if lo is None and hi is None:
            return self.t["unknown"]
        if lo is None or hi is None or round(lo) == round(hi):
            return _money(lo if lo is not None else hi)
        return f"{_money(lo)}–{_money(hi)}"

    def months(self, x) -> str:
        return _months(x) or self.t["unknown"]

    def months_range(self, lo, hi=None) -> str:
        lo, hi = _num(lo), _num(hi)
        if lo is None and hi is None:
            return self.t["unknown"]
        if lo is None or hi is None or round(lo, 2) == round(hi, 2):
            return _months(lo if lo is not None else hi)
        return f"{_months(lo)}–{_months(hi)}"


def _safe_url(url) -> str:
    """An http(s) URL to link to, else '' (never a javascript: or data: link)."""
    if not isinstance(url, str):
        return ""
    url = url.strip()
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def _domain(url: str) -> str:
    host = urlsplit(url).netloc.lower()
    return host.removeprefix("www.")


def _first_reason(p: dict) -> str:
    """The first reason of a pathway, without the O*NET similarity detail that follows it."""
    reasons = p.get("reasons") or []
    if not reasons:
        return ""
    r = str(reasons[0])
    cut = re.search(r";\s*O\*NET data \(", r)
    return r[:cut.start()] if cut else r


# --- view model -------------------------------------------------------------------------------

def _step_view(s: dict, f: _Fmt, t: dict) -> dict:
    url = _safe_url(s.get("source_url"))
    as_of = s.get("as_of") or ""
    as_of_text = t.get(f"as_of_{s.get('as_of_kind')}", t["as_of_checked"]).format(date=as_of) if as_of else ""
    basis = s.get("cost_basis") or ""
    cost = f.money_range(s.get("cost_usd_min"), s.get("cost_usd_max"))
    return {
        "no": s.get("step_no", ""), "name": s.get("name", ""),
        "required": s.get("required", ""), "condition": s.get("condition") or "",
        "cost": cost, "cost_known": s.get("cost_usd_min") is not None or s.get("cost_usd_max") is not None,
        "basis": t.get(f"basis_{basis}", "") if basis and basis != "unknown" else "",
        "months": f.months(s.get("months")),
        "months_text": (t["one_month"] if _months(s.get("months")) == "1"
                        else t["n_months"].format(n=f.months(s.get("months")))),
        "url": url, "domain": _domain(url) if url else "",
        "source_text": "" if url else str(s.get("source_url") or ""), "as_of": as_of_text,
    }


def _occupation(code, english, names, short: bool = False) -> str:
    """The occupation's name in the page's language with the English title beside it (``short``:
    the translated name alone), else the English title."""
    english = str(english or "")
    local = names(code) if (names is not None and code) else None
    if local and local.strip().lower() != english.strip().lower():
        return str(local) if (short or not english) else f"{local} ({english})"
    return english


def _pathway_view(p: dict | None, f: _Fmt, t: dict, names=None) -> dict | None:
    if not p:
        return None
    lic = p.get("license") or None
    board_url = _safe_url((lic or {}).get("board_url"))
    wage = _num(p.get("median_annual_wage"))
    return {
        "kind": p.get("kind", ""), "kind_text": t.get(f"kind_{p.get('kind')}", p.get("kind", "")),
        "title": _occupation(p.get("target_onet"), p.get("target_title", ""), names),
        "short": _occupation(p.get("target_onet"), p.get("target_title", ""), names, short=True),
        "onet": p.get("target_onet", ""),
        "licence": ({"title": lic.get("title", ""), "board": lic.get("board_name", ""), "board_url": board_url}
                    if lic else None),
        "licence_required": p.get("licence_required", ""), "licence_condition": p.get("licence_condition") or "",
        "route_known": bool(p.get("route_known", True)),
        "steps": [_step_view(s, f, t) for s in (p.get("steps") or [])],
        "steps_done": [{"name": d.get("name", ""), "by": d.get("by", "")} for d in (p.get("steps_done") or [])],
        "fees": f.money_range(p.get("total_cost_usd"), p.get("total_cost_usd_max")),
        "unknown_fees": int(p.get("unknown_cost_steps") or 0),
        "months": f.months_range(p.get("months_to_first_job"), p.get("months_to_first_job_max")),
        "paycheck": f.months_range(p.get("months_to_first_paycheck_min"), p.get("months_to_first_paycheck_max")),
        "wage": t["per_year"].format(amount=_money(wage)) if wage is not None else t["unknown"],
        "wage_area": p.get("wage_area") or "",
        "reason": _first_reason(p),
    }


def _split_activity(activity: str, route_title: str, bridge_title: str) -> dict:
    """A phase's activity as what happens on the route and in the bridge job (the planner joins
    them with '; ', the route's steps prefixed '<route> route: ', the bridge's '<bridge>: ')."""
    if not bridge_title:
        return {"route_part": activity, "job_part": ""}
    r_prefix, b_prefix, b_work = f"{route_title} route: ", f"{bridge_title}: ", f"working as {bridge_title}"
    groups: dict[str, list[str]] = {"route": [], "job": []}
    current = "route"
    for part in str(activity).split("; "):
        if part.startswith(b_prefix):
            current, part = "job", part[len(b_prefix):]
        elif part == b_work:
            current = "job"
        elif part.startswith(r_prefix):
            current, part = "route", part[len(r_prefix):]
        elif part.startswith((f"working as {route_title}", f"{route_title} route")):
            current = "route"
        groups[current].append(part)
    return {"route_part": "; ".join(groups["route"]), "job_part": "; ".join(groups["job"])}


def _nice_step(span: float, target: int) -> float:
    raw = span / max(1, target)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def _chart(plan: dict, f: _Fmt, t: dict, names=None) -> dict:
    """The month-by-month chart's geometry: an income step line, fee and loan bars, axes."""
    phases = [p for p in (plan.get("timeline") or []) if _num(p.get("start_month")) is not None]
    horizon = _num((plan.get("settings") or {}).get("horizon_months")) or 60.0
    # the end of the timeline: where the last phase starts when it runs on to the horizon
    end = 0.0
    if phases:
        last = phases[-1]
        last_end = _num(last.get("end_month")) or 0.0
        end = _num(last["start_month"]) if (last_end >= horizon and len(phases) > 1) else last_end
        for k in ("route_first_paycheck_month", "months_to_first_paycheck"):
            if _num(plan.get(k)) is not None and _num(plan.get(k)) < horizon:
                end = max(end, _num(plan[k]))
    x_max = float(min(60.0, horizon, max(6.0, math.ceil(end + 6))))
    W, H = 760.0, 262.0
    left, right, top = 62.0, 14.0, 30.0
    inc_bottom, bar_top, bar_bottom = 160.0, 182.0, 224.0   # income panel, then the fees/loan panel
    pw = W - left - right
    incomes = [_num(p.get("monthly_income_usd")) or 0.0 for p in phases]
    lumps = [v for p in phases for v in (_num(p.get("fees_usd")) or 0.0, _num(p.get("loan_drawn_usd")) or 0.0)]
    y_top = max(incomes + [0.0]) or 1000.0
    y_step = _nice_step(y_top, 4)
    y_max = math.ceil(y_top * 1.05 / y_step) * y_step
    b_top = max(lumps + [0.0]) or 100.0
    b_step = _nice_step(b_top, 2)
    b_max = math.ceil(b_top / b_step) * b_step

    def X(m: float) -> float:
        return round(left + pw * min(max(m, 0.0), x_max) / x_max, 1)

    def Y(v: float) -> float:
        return round(top + (inc_bottom - top) * (1 - min(max(v, 0.0), y_max) / y_max), 1)

    def YB(v: float) -> float:
        return round(bar_top + (bar_bottom - bar_top) * (1 - min(max(v, 0.0), b_max) / b_max), 1)

    # income: a step line over the phases
    pts = []
    for p in phases:
        a, b = _num(p["start_month"]), _num(p.get("end_month")) or x_max
        if a >= x_max:
            break
        inc = _num(p.get("monthly_income_usd")) or 0.0
        pts += [(X(a), Y(inc)), (X(min(b, x_max)), Y(inc))]
    line = ("M" + " L".join(f"{x:g} {y:g}" for x, y in pts)) if pts else ""
    area = (line + f" L{pts[-1][0]:g} {Y(0):g} L{pts[0][0]:g} {Y(0):g} Z") if pts else ""
    # fees and loan draws: bars at the start of their phase, in their own panel and scale
    bw = max(3.0, min(12.0, pw / x_max * 0.3))
    bars = []
    for p in phases:
        a = _num(p["start_month"])
        if a >= x_max:
            continue
        for i, (key, kind, label) in enumerate((("fees_usd", "fees", t["fees_bar"]),
                                                ("loan_drawn_usd", "loan", t["loan_bar"]))):
            v = _num(p.get(key)) or 0.0
            if v <= 0:
                continue
            x = X(a) + 1 + i * (bw + 1)
            bars.append({"x": round(x, 1), "y": YB(v), "w": round(bw, 1), "h": round(max(1.0, YB(0) - YB(v)), 1),
                         "color": COLORS[kind],
                         "label": f"{t['month_n'].format(n=_months(a))}: {label} {_money(v)}"})
    # axes
    m_step = next(s for s in (1, 2, 3, 6, 12) if x_max / s <= 12)
    x_ticks = [{"x": X(m), "label": str(m)} for m in range(0, int(x_max) + 1, m_step)]
    y_ticks = [{"y": Y(v), "label": _money(v)} for v in
               [y_step * i for i in range(round(y_max / y_step) + 1)]]
    b_ticks = [{"y": YB(v), "label": _money(v)} for v in
               [b_step * i for i in range(round(b_max / b_step) + 1)]]
    markers = []
    rp = _num(plan.get("route_first_paycheck_month"))
    if rp is not None and 0 < rp < x_max:
        markers.append({"x": X(rp), "label": t["route_pays"]})
    # a text summary for screen readers
    incomes, prev = [], None
    for p in phases:
        inc = round(_num(p.get("monthly_income_usd")) or 0.0)
        if inc != prev:
            incomes.append(t["chart_income_at"].format(amount=_money(inc), month=_months(p["start_month"])))
            prev = inc
    fees = sum(_num(p.get("fees_usd")) or 0.0 for p in phases)
    loan = sum(_num(p.get("loan_drawn_usd")) or 0.0 for p in phases)
    desc = t["chart_desc"].format(end=_months(x_max), income="; ".join(incomes) or t["none"],
                                  fees=_money(fees), loan=_money(loan))
    legend = [{"kind": "line", "color": COLORS["income"], "label": t["income_line"]},
              {"kind": "bar", "color": COLORS["fees"], "label": t["fees_bar"]},
              {"kind": "bar", "color": COLORS["loan"], "label": t["loan_bar"]}]
    lx, legend_items = left, []
    for item in legend:   # laid out left to right, about 6.5 px a character at 11px
        legend_items.append(dict(item, x=round(lx, 1)))
        lx += 22 + 6.5 * len(item["label"]) + 16
    route_title = (plan.get("route") or {}).get("target_title") or ""
    bridge_title = (plan.get("bridge") or {}).get("target_title") or ""
    return {"w": W, "h": H, "left": left, "right": W - right, "top": top, "inc_bottom": Y(0),
            "bar_top": bar_top, "bottom": YB(0), "lumps_label": t["chart_lumps"],
            "line": line, "area": area, "bars": bars, "x_ticks": x_ticks, "y_ticks": y_ticks, "b_ticks": b_ticks,
            "markers": markers, "legend": legend_items, "x_max": x_max, "colors": COLORS,
            "split": bool(bridge_title),
            "route_title": _occupation((plan.get("route") or {}).get("target_onet"), route_title, names, True),
            "bridge_title": _occupation((plan.get("bridge") or {}).get("target_onet"), bridge_title, names, True),
            "title": t["chart_title"], "desc": desc, "axis_label_x": (left + W - right) / 2,
            "rows": [{"months": f"{_months(p['start_month'])}–{_months(p.get('end_month'))}",
                      "activity": p.get("activity", ""),
                      **_split_activity(p.get("activity", ""), route_title, bridge_title),
                      "income": _money(p.get("monthly_income_usd")) or t["unknown"],
                      "fees": _money(p.get("fees_usd")) if _num(p.get("fees_usd")) else "",
                      "loan": _money(p.get("loan_drawn_usd")) if _num(p.get("loan_drawn_usd")) else ""}
                     for p in phases]}


def _money_view(plan: dict, f: _Fmt, t: dict) -> dict:
    loan = plan.get("loan") or {}
    earn = plan.get("earnings") or {}
    pays = loan.get("pays_for") or {}
    schedule = sorted(((_num(m), _num(v)) for m, v in (loan.get("schedule") or {}).items()),
                      key=lambda mv: mv[0] if mv[0] is not None else math.inf)
    amount = _num(loan.get("amount_usd")) or 0.0
    rate = _num(loan.get("annual_rate")) or 0.0
    repayment = (t["repayment_text"].format(amount=_money(loan.get("monthly_payment_usd"), cents=True),
                                            term=loan.get("term_months", ""), rate=f"{rate:.1%}",
                                            start=loan.get("repayment_starts_month")
                                            if loan.get("repayment_starts_month") is not None else t["unknown"])
                 if amount > 0 else t["no_repayment"])
    rows = []
    for key, label in (("plan", t["this_plan"]), ("entry", t["entry_job"]), ("bridge", t["bridge_only"])):
        vals = [earn.get(f"{key}_{m}m_usd") for m in (12, 36, 60)]
        if key == "bridge" and all(v is None for v in vals):
            continue
        rows.append({"label": label, "cells": [_money(v) or t["not_applicable"] for v in vals]})
    payback = earn.get("payback_month")
    assumptions = list(loan.get("assumptions") or []) + list(earn.get("assumptions") or [])
    return {
        "amount": t["loan_of_cap"].format(amount=_money(amount), cap=_money(loan.get("cap_usd")) or t["unknown"]),
        "amount_short": _money(amount), "has_loan": amount > 0,
        "pays_fees": t["pays_fees"].format(amount=_money(pays.get("fees_usd")) or "$0"),
        "pays_living": t["pays_living"].format(amount=_money(pays.get("living_support_usd")) or "$0"),
        "schedule": [f"{t['month_n'].format(n=_months(m))}: {_money(v)}" for m, v in schedule
                     if m is not None and v],
        "repayment": repayment,
        "fees": f.money(loan.get("fees_usd")),
        "budget_used": f.money(loan.get("budget_used_usd")),
        "out_of_pocket": f.money(loan.get("out_of_pocket_usd")),
        "earnings_cols": [t["after_months"].format(n=m) for m in (12, 36, 60)],
        "earnings_rows": rows,
        "payback": (t["month_n"].format(n=payback) if payback is not None else t["payback_never"]),
        "assumptions": assumptions,
    }


def _sources(plan: dict) -> list[dict]:
    """Every source the page cites, once, with its date."""
    seen: dict[str, str] = {}
    paths = [plan.get("route"), plan.get("bridge")]
    for p in paths:
        for s in (p or {}).get("steps") or []:
            url = _safe_url(s.get("source_url"))
            if url and url not in seen:
                seen[url] = s.get("as_of") or ""
        cur = (p or {}).get("curated") or {}
        url = _safe_url(cur.get("source_url"))
        if url and url not in seen:
            seen[url] = cur.get("as_of") or ""
        lic = (p or {}).get("license") or {}
        url = _safe_url(lic.get("board_url"))
        if url and url not in seen:
            seen[url] = ""
    for p in plan.get("alternatives") or []:
        cur = (p or {}).get("curated") or {}
        url = _safe_url(cur.get("source_url"))
        if url and url not in seen:
            seen[url] = cur.get("as_of") or ""
    out = [{"url": u, "as_of": a} for u, a in seen.items()]
    entry = (plan.get("earnings") or {}).get("entry_wage_source")
    if entry:   # the entry-job wage: a data release, not a page
        out.append({"url": str(entry), "as_of": ""})
    return out


def _environment():
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    # data text (English whatever the page's language) isolated from the page's direction; escaped
    env.filters["bdi"] = lambda v: Markup("<bdi>%s</bdi>") % v if v not in (None, "") else ""
    return env


def _css() -> str:
    return (Path(__file__).resolve().parent / "static" / "plan.css").read_text(encoding="utf-8")


def plan_context(plan_dict: dict, phrases: dict | None = None, lang: str = "en", direction: str = "ltr",
                 names=None) -> dict:
    """The template context of ``_plan.html`` (the plan's content) for one plan and language."""
    if direction not in ("ltr", "rtl"):
        raise ValueError(f"direction must be 'ltr' or 'rtl' (got {direction!r})")
    t = dict(PHRASES_EN)
    if phrases:
        t.update({k: v for k, v in phrases.items() if isinstance(v, str) and v})
    f = _Fmt(t)
    plan = plan_dict or {}
    client = plan.get("client") or {}
    route = _pathway_view(plan.get("route"), f, t, names)
    bridge = _pathway_view(plan.get("bridge"), f, t, names)
    versions = plan.get("data_versions") or {}
    return {
        "t": t, "lang": str(lang or "en"), "dir": direction, "hoff": 0, "main_tag": "main",
        "client": {"title": _occupation(client.get("onet_code"), client.get("title") or client.get("onet_code") or "",
                                        names),
                   "onet": client.get("onet_code") or "",
                   "state": client.get("state") or (plan.get("route") or {}).get("state") or "",
                   "zip": client.get("zip_code") or ""},
        "date": date.today().isoformat(),
        "versions": [f"{k}: {v}" for k, v in versions.items()],
        "route": route, "route_note": plan.get("route_note") or "",
        "bridge": bridge, "bridge_note": plan.get("bridge_note") or "",
        "alternatives": [_pathway_view(p, f, t, names) for p in (plan.get("alternatives") or []) if p],
        "first_paycheck": f.months(plan.get("months_to_first_paycheck")),
        "first_paycheck_month": (t["month_n"].format(n=_months(plan.get("months_to_first_paycheck")))
                                 if _num(plan.get("months_to_first_paycheck")) is not None else t["unknown"]),
        "route_month": (t["month_n"].format(n=f.months_range(plan.get("months_to_route"),
                                                             plan.get("months_to_route_max")))
                        if _num(plan.get("months_to_route")) is not None else t["unknown"]),
        "months_to_route": f.months_range(plan.get("months_to_route"), plan.get("months_to_route_max")),
        "chart": _chart(plan, f, t, names), "money": _money_view(plan, f, t),
        "caveats": [str(c) for c in (plan.get("caveats") or [])],
        "sources": _sources(plan),
    }


def plan_html(plan_dict: dict, phrases: dict | None = None, lang: str = "en", direction: str = "ltr",
              names=None, stylesheet_href: str | None = None) -> str:
    """The plan as one self-contained HTML page (print it on one A4 or Letter page).  ``names``:
    code -> occupation name in ``lang`` (or None).  ``stylesheet_href``: link this stylesheet
    instead of inlining ``static/plan.css`` (the web app, whose CSP forbids inline styles)."""
    ctx = plan_context(plan_dict, phrases, lang, direction, names)
    ctx.update(stylesheet_href=stylesheet_href or "", css="" if stylesheet_href else _css())
    return _environment().get_template("plan.html").render(**ctx)


def render_plan(plan_dict: dict, lang: str | None = "en", names=None, stylesheet_href: str | None = None) -> str:
    """The printable plan in one of the project's languages (``matcher.i18n.available_languages``):
    translated phrases, occupation names from ``names`` (an ``OccupationNames``), English where a
    translation is missing.  An unknown language -> InputError."""
    from .i18n import load_locale

    loc = load_locale(lang)
    lookup = (lambda code: names.name(code, loc.code)) if (names is not None and loc.code != "en") else None
    return plan_html(plan_dict, loc.phrases, loc.code, loc.direction, lookup, stylesheet_href)
