import copy
import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from markupsafe import escape

from matcher.pathways import ClientContext
from matcher.plan import Planner
from matcher.render import PHRASES_EN, plan_html


@pytest.fixture(scope="module")
def plans():
    # the calls of the README examples; `today` fixed so the physician's years since graduation stay 11
    planner = Planner(today=date(2026, 12, 1))
    nurse = planner.plan(ClientContext("29-1141.00", english="B1", years_experience=10, budget_usd=500,
                                       need_income_now=True, zip_code="40214")).to_dict()
    physician = planner.plan(ClientContext("29-1215.00", passed=("USMLE-1",)), graduation_year=2015).to_dict()
    return {"nurse": nurse, "physician": physician}


@pytest.fixture(scope="module")
def pages(plans):
    return {name: plan_html(d) for name, d in plans.items()}


def _has(html: str, text: str) -> bool:
    return str(escape(text)) in html


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str):
    p = _Tags()
    p.feed(html)
    return p.tags


def _money(x) -> str:
    return f"${x:,.0f}"


def test_examples_have_what_the_page_needs(plans):
    nurse, physician = plans["nurse"], plans["physician"]
    assert nurse["route"]["target_title"] == "Registered Nurses" and nurse["route"]["kind"] == "relicensure"
    assert nurse["route"]["steps"] and nurse["bridge"] and nurse["loan"]["amount_usd"] > 0
    # the physician graduated too long ago for a residency: the plan follows an alternative
    assert physician["route"]["kind"] != "relicensure" and "residency" in physician["route_note"]
    assert physician["bridge"] and physician["alternatives"]


@pytest.mark.parametrize("name", ["nurse", "physician"])
def test_page_shows_the_plan(plans, pages, name):
    d, html = plans[name], pages[name]
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en" dir="ltr">' in html
    assert _has(html, d["client"]["title"])
    assert _has(html, d["route"]["target_title"])
    for step in d["route"]["steps"]:
        assert _has(html, step["name"]), step["name"]
    assert _has(html, d["route_note"])
    assert _has(html, d["bridge"]["target_title"])
    for step in d["bridge"]["steps"]:
        assert _has(html, step["name"]), step["name"]
    assert _has(html, d["bridge_note"])
    for alt in d["alternatives"]:
        assert _has(html, alt["target_title"])
    assert _money(d["loan"]["amount_usd"]) in html
    assert _money(d["loan"]["cap_usd"]) in html
    for m in (12, 36, 60):
        assert _money(d["earnings"][f"plan_{m}m_usd"]) in html
        assert _money(d["earnings"][f"entry_{m}m_usd"]) in html
    for c in d["caveats"]:
        assert _has(html, c)
    for a in d["loan"]["assumptions"] + d["earnings"]["assumptions"]:
        assert _has(html, a)
    assert _has(html, d["earnings"]["entry_wage_source"])
    assert _has(html, PHRASES_EN["orientation_notice"])
    for h in ("route", "bridge", "alternatives", "timeline", "money"):
        assert re.search(r'<h2 class="plan-h" id="h-[a-z]+">' + re.escape(str(escape(PHRASES_EN[h]))) + "</h2>", html), h


def test_nurse_route_details(plans, pages):
    d, html = plans["nurse"], pages["nurse"]
    lic = d["route"]["license"]
    assert _has(html, lic["board_name"]) and f'href="{lic["board_url"]}"' in html
    step = d["route"]["steps"][0]
    assert _money(step["cost_usd_min"]) + "–" + _money(step["cost_usd_max"]) in html
    assert any(s["cost_usd_min"] is None for s in d["route"]["steps"]) and PHRASES_EN["unknown"] in html
    assert any(s["required"] == "no" for s in d["route"]["steps"]) and PHRASES_EN["req_no"] in html
    # steps in an ordered list, in order
    pos = [html.index(str(escape(s["name"]))) for s in d["route"]["steps"]]
    assert pos == sorted(pos)
    assert "<ol class=\"steps\">" in html
    # every source URL printed in full in the footer
    for s in d["route"]["steps"]:
        assert _has(html, s["source_url"])


def test_chart_is_one_accessible_inline_svg(plans, pages):
    d, html = plans["nurse"], pages["nurse"]
    svgs = re.findall(r"<svg\b[^>]*>", html)
    assert len(svgs) == 1
    assert 'role="img"' in svgs[0] and "aria-label=" in svgs[0]
    body = html[html.index("<svg"):html.index("</svg>")]
    assert "<title" in body and "<desc" in body and "<path" in body and "<rect" in body
    # month ticks up to 6 months after the route starts paying, and $ labels
    assert ">16</text>" in body and ">$0</text>" in body
    # the phases table: one row per phase
    table = html[html.index('<table class="phases screen-only">'):]
    table = table[:table.index("</table>")]
    assert table.count("<th scope=\"row\"") == len(d["timeline"])


def test_no_external_resources(pages):
    for html in pages.values():
        for tag, attrs in _tags(html):
            if tag in ("script", "link", "img", "iframe", "object", "embed", "source", "video", "audio"):
                for attr in ("src", "href", "data"):
                    assert not re.match(r"\s*(https?:)?//", attrs.get(attr) or ""), (tag, attrs)
        assert "<script" not in html and "<link" not in html
        style = html[html.index("<style>"):html.index("</style>")]
        assert "url(" not in style and "@import" not in style


def test_text_is_escaped(plans):
    d = copy.deepcopy(plans["nurse"])
    evil = "<script>alert(1)</script>"
    d["client"]["title"] = evil
    d["route"]["steps"][0]["name"] = evil + " step"
    d["caveats"] = [evil + " caveat"]
    d["route"]["license"]["board_url"] = "javascript:alert(1)"
    html = plan_html(d)
    assert evil not in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html


def test_json_round_trip_and_missing_parts(plans):
    # a plan read back from JSON (loan schedule keys become strings) renders the same
    d = plans["nurse"]
    assert plan_html(json.loads(json.dumps(d))) == plan_html(d)
    # no bridge, no alternatives, no caveats
    e = copy.deepcopy(d)
    e.update(bridge=None, bridge_note="no bridge needed: the client can work at once", alternatives=[], caveats=[])
    html = plan_html(e)
    assert _has(html, e["bridge_note"]) and _has(html, PHRASES_EN["no_alternatives"])
    # steps already done
    e["route"]["steps_done"] = [{"name": "USMLE Step 1 (registered through ECFMG)", "by": "USMLE-1"}]
    html = plan_html(e)
    assert _has(html, PHRASES_EN["steps_done"]) and _has(html, "USMLE Step 1 (registered through ECFMG)")


def test_unknown_route_and_empty_timeline(plans):
    d = copy.deepcopy(plans["physician"])
    alt = next(a for a in d["alternatives"] if not a["route_known"])
    d.update(route=alt, bridge=None, timeline=[], months_to_first_paycheck=None, months_to_route=None,
             months_to_route_max=None, route_first_paycheck_month=None)
    html = plan_html(d)
    assert _has(html, alt["target_title"]) and _has(html, PHRASES_EN["steps_unknown"])
    assert len(re.findall(r"<svg\b", html)) == 1


def test_right_to_left_with_translated_phrases(plans):
    title = "خطة مسارك المهني"
    html = plan_html(plans["nurse"], phrases={"title": title, "route": "طريقك"}, lang="ar", direction="rtl")
    assert '<html lang="ar" dir="rtl">' in html
    assert f"<h1 class=\"plan-title\">{title}</h1>" in html and "طريقك" in html
    assert f">{PHRASES_EN['title']}</h1>" not in html
    # phrases not translated fall back to English
    assert _has(html, PHRASES_EN["orientation_notice"]) and _has(html, PHRASES_EN["money"])
    # the chart keeps time running left to right
    assert 'direction="ltr"' in re.findall(r"<svg\b[^>]*>", html)[0]
    with pytest.raises(ValueError):
        plan_html(plans["nurse"], direction="sideways")
