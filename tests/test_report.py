"""The impact report on a small scored intake whose figures are computed by hand, the CLI, the
web page and the sample files."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from matcher.cli import main
from matcher.errors import ConfigError, InputError
from matcher.report import ReportConfig, build_report, read_outcomes, report_html

ROOT = Path(__file__).resolve().parents[1]


def _scored() -> pd.DataFrame:
    """Four clients: A (relicensure, loan), B (direct, no loan), C (relicensure, no opening now), D (error)."""
    base = dict(client_id="", name="", notes="", country="", language="", credential_type="", english_level_used="",
                onet_code="", status="ok", messages="", plan_route="", plan_bridge="", plan_route_kind="",
                plan_licence_id="", plan_months_to_first_paycheck="", plan_months_to_route="", plan_fees_usd="",
                plan_loan_usd="", plan_out_of_pocket_usd="", plan_earnings_12m="", plan_earnings_36m="",
                plan_earnings_60m="", plan_entry_earnings_12m="", plan_entry_earnings_36m="",
                plan_entry_earnings_60m="", plan_loan_schedule="", plan_loan_monthly_payment_usd="",
                plan_loan_repayment_start_month="", plan_loan_term_months="", opening_1="", opening_2="",
                intake_date="", scored_on="2026-03-01")
    rows = [
        dict(base, client_id="A", name="Maria Secretname", notes="secret note", country="CU", language="es",
             onet_code="29-1141.00", plan_route="relicensure: Registered Nurses (29-1141.00); ...",
             plan_bridge="bridge: Nursing Assistants (31-1131.00); ...", plan_route_kind="relicensure",
             plan_licence_id="KY-RN", plan_months_to_first_paycheck="1.5", plan_months_to_route="10",
             plan_fees_usd="960", plan_loan_usd="1000", plan_out_of_pocket_usd="0", plan_earnings_12m="40000",
             plan_earnings_36m="200000", plan_earnings_60m="380000", plan_entry_earnings_12m="30000",
             plan_entry_earnings_36m="90000", plan_entry_earnings_60m="150000", plan_loan_schedule="0:600|2:400",
             plan_loan_monthly_payment_usd="50", plan_loan_repayment_start_month="3", plan_loan_term_months="20",
             opening_1="Eastside - Nurse Aide [OPN-1] (score 0.90) (apply now)",
             opening_2="Hospital - RN [OPN-2] (score 0.80) (after licence)", intake_date="2026-01-15"),
        dict(base, client_id="B", country="MX", language="es", onet_code="51-4121.00", plan_route_kind="direct",
             plan_months_to_first_paycheck="0.5", plan_months_to_route="0.5", plan_fees_usd="0", plan_loan_usd="0",
             plan_out_of_pocket_usd="0", plan_earnings_12m="36000", plan_earnings_36m="108000",
             plan_earnings_60m="180000", plan_entry_earnings_12m="30000", plan_entry_earnings_36m="90000",
             plan_entry_earnings_60m="150000", opening_1="Works - Welder [OPN-3] (score 0.70) (apply now)",
             intake_date="2026-01-20"),
        dict(base, client_id="C", status="partial", messages="english_level 'fluent' is not a CEFR level",
             country="SY", language="ar", onet_code="29-1141.00", plan_route_kind="relicensure",
             plan_licence_id="KY-RN", plan_months_to_first_paycheck="2", plan_months_to_route="12",
             plan_fees_usd="1000", plan_loan_usd="1500", plan_out_of_pocket_usd="250", plan_earnings_12m="30000",
             plan_earnings_36m="180000", plan_earnings_60m="360000", plan_entry_earnings_12m="30000",
             plan_entry_earnings_36m="90000", plan_entry_earnings_60m="150000", plan_loan_schedule="0:1000|1:500",
             plan_loan_monthly_payment_usd="75", plan_loan_repayment_start_month="4", plan_loan_term_months="20",
             opening_1="Hospital - RN [OPN-2] (score 0.70) (after licence)", intake_date="2026-02-10"),
        dict(base, client_id="D", status="error", messages="no occupation: previous_title and credential are empty",
             intake_date="2026-02-12"),
    ]
    return pd.DataFrame(rows)


def _outcomes() -> pd.DataFrame:
    return pd.DataFrame([
        {"client_id": "A", "date": "2026-02-20", "event": "hired", "occupation": "31-1131.00", "hourly_wage": "17",
         "amount_usd": "", "note": ""},
        {"client_id": "A", "date": "2026-11-20", "event": "license_obtained", "occupation": "29-1141.00",
         "hourly_wage": "", "amount_usd": "", "note": ""},
        {"client_id": "A", "date": "2026-01-20", "event": "loan_drawn", "occupation": "", "hourly_wage": "",
         "amount_usd": "1000", "note": ""},
        {"client_id": "A", "date": "2026-06-01", "event": "loan_repaid", "occupation": "", "hourly_wage": "",
         "amount_usd": "150", "note": ""},
        {"client_id": "C", "date": "2026-04-01", "event": "hired", "occupation": "31-1131.00", "hourly_wage": "16",
         "amount_usd": "", "note": ""},
        {"client_id": "C", "date": "2026-04-02", "event": "promoted", "occupation": "", "hourly_wage": "",
         "amount_usd": "", "note": ""},
        {"client_id": "B", "date": "someday", "event": "hired", "occupation": "", "hourly_wage": "",
         "amount_usd": "", "note": ""},
    ])


@pytest.fixture(scope="module")
def report(taxonomy):
    return build_report(_scored(), _outcomes(), ReportConfig(as_of=date(2026, 12, 31)), taxonomy=taxonomy)


def test_caseload_counts(report):
    c = report.charts
    assert dict(zip(c["by_route_kind"]["labels"], c["by_route_kind"]["values"])) == {
        "relicensure": 2, "direct": 1, "not recorded": 1}
    assert dict(zip(c["by_licence"]["labels"], c["by_licence"]["values"])) == {"KY-RN": 2}
    assert dict(zip(c["by_language"]["labels"], c["by_language"]["values"])) == {"es": 2, "ar": 1, "not recorded": 1}
    assert dict(zip(c["by_sector"]["labels"], c["by_sector"]["values"])) == {
        "healthcare": 2, "manufacturing": 1, "not recorded": 1}
    # months to the first paycheck 1.5, 0.5, 2 -> bins 1-3 (2), 0-1 (1)
    assert dict(zip(c["months_to_first_paycheck"]["labels"], c["months_to_first_paycheck"]["values"]))["1-3"] == 2
    assert c["bridges"]["labels"] == ["Nursing Assistants"]
    s = report.summary
    assert (s["clients"], s["scored"], s["errors"], s["partial"]) == (4, 3, 1, 1)
    # C has only an 'after licence' opening; D is an error row and has no plan
    assert [r["client_id"] for r in report.tables["no_opening_now"]["rows"]] == ["C"]
    assert s["clients_without_an_opening_now"] == 1


def test_money(report):
    s = report.summary
    assert (s["loan_demand_usd"], s["fees_usd"], s["out_of_pocket_usd"], s["borrowers"]) == (2500, 1960, 250, 2)
    demand = report.charts["loan_demand"]
    assert demand["labels"][:3] == ["2026-01", "2026-02", "2026-03"]
    # A (January) draws 600 in month 0 and 400 in month 2; C (February) 1000 in month 1 and 500 in month 2
    assert demand["series"]["loans drawn"][:4] == [600, 1000, 900, 0]
    # A repays 50 a month from its month 3 (April), C 75 from its month 4 (June); 90% comes back
    assert demand["series"]["repayments expected"][3:6] == [45, 45, 112.5]
    assert s["lowest_fund_balance_usd"] == 120_000 - 2500
    assert demand["series"]["fund balance"][3] == 120_000 - 2500 + 45
    # two clients over two intake months: one a month
    assert s["clients_per_month_seen"] == 2.0
    fees = dict(zip(report.charts["fees_by_licence"]["labels"], report.charts["fees_by_licence"]["values"]))
    assert fees == {"KY-RN": 1960}


def test_the_fund_projection_answers_its_questions(taxonomy):
    # a caseload whose loans are never repaid runs the fund dry; full repayment keeps it revolving
    df = _scored()
    broke = build_report(df, config=ReportConfig(fund_capital=5000, repayment_rate=0.0, intake_per_month=2,
                                                 as_of=date(2026, 12, 31)), taxonomy=taxonomy)
    # two clients a month, each drawing 2500/4 = 625 on average: 1,250 a month, 5,000 lasts 3 months
    assert broke.summary["fund_runs_dry_in_month"] is not None and broke.summary["fund_runs_dry_in_month"] <= 4
    ok = build_report(df, config=ReportConfig(fund_capital=500_000, repayment_rate=1.0, as_of=date(2026, 12, 31)),
                      taxonomy=taxonomy)
    assert ok.summary["fund_runs_dry_in_month"] is None and ok.summary["repayment_rate_needed"] is not None


def test_projected_earnings(report):
    e = {r["months"]: r for r in report.summary["earnings"]}
    assert e[12] == {"months": 12, "clients": 3, "plan_total": 106000, "entry_total": 90000, "gain_total": 16000,
                     "gain_per_client": 5333.33}
    assert (e[36]["plan_total"], e[36]["entry_total"], e[36]["gain_total"]) == (488000, 270000, 218000)
    assert report.charts["earnings"]["series"] == {"plans": [106000, 488000, 920000],
                                                   "entry jobs": [90000, 270000, 450000]}


def test_outcomes_and_overdue(report):
    o = report.summary["outcomes"]
    assert (o["licensed"], o["hired"], o["overdue"]) == (1, 2, 1)
    assert [r["client_id"] for r in report.tables["overdue"]["rows"]] == ["B"]       # no job 0.5 months in
    assert report.tables["overdue"]["rows"][0]["overdue"] == "first job"
    assert o["loans_drawn_usd"] == 1000 and o["loans_repaid_usd"] == 150 and o["fund_position_usd"] == 119_150
    # A: licence in 10.2 months, job in 1.2; wage 17/h x 2080 - 30,000 entry
    a = next(r for r in report.tables["outcomes_by_client"]["rows"] if r["client_id"] == "A")
    assert (a["months_to_licence"], a["months_to_job"], a["annual_wage_gain_vs_entry"]) == (10.2, 1.2, 5360.0)
    # A was hired as a nursing assistant, the bridge its plan named
    assert report.charts["bridges_deliver"] == {
        "title": "Which bridges deliver: clients planned, hired into the bridge job", "kind": "bars2",
        "unit": "clients", "labels": ["Nursing Assistants"], "series": {"planned": [1], "hired": [1]}}
    # an unknown event and an unreadable date are messages, not failures
    assert any("unknown event 'promoted'" in m for m in report.messages)
    assert any("no readable date" in m for m in report.messages)


def test_every_chart_has_its_numbers_and_no_name_or_note_leaks(report):
    d = report.to_dict()
    html = report_html(report)
    for key, ch in d["charts"].items():
        assert f'id="chart-{key}"' in html, key
        if ch["kind"] == "bar":
            assert len(ch["labels"]) == len(ch["values"])
        else:
            assert all(len(v) == len(ch["labels"]) for v in ch["series"].values())
    text = json.dumps(d) + html
    assert "Secretname" not in text and "secret note" not in text
    assert "<script" not in html and "http://" not in html and "https://" not in html   # self-contained


def test_bad_inputs(taxonomy):
    with pytest.raises(InputError, match="not a scored intake"):
        build_report(pd.DataFrame({"x": [1]}), taxonomy=taxonomy)
    with pytest.raises(ConfigError, match="repayment_rate"):
        ReportConfig(repayment_rate=1.5)
    with pytest.raises(InputError, match="lacks the columns"):
        read_outcomes(pd.DataFrame({"client_id": ["A"]}))


def test_cli_writes_html_and_json(tmp_path, capsys):
    src = tmp_path / "scored.csv"
    _scored().to_csv(src, index=False)
    out = tmp_path / "r.html"
    assert main(["report", str(src), "-o", str(out), "--fund-capital", "50000", "--as-of", "2026-12-31"]) == 0
    d = json.loads(out.with_suffix(".json").read_text())
    assert d["config"]["fund_capital"] == 50000 and d["summary"]["loan_demand_usd"] == 2500
    assert "<svg" in out.read_text()
    assert main(["report", str(src), "-o", str(tmp_path / "r.txt")]) == 2
    assert main(["report", str(src), "-o", str(out), "--as-of", "yesterday"]) == 2
    assert "not a date" in capsys.readouterr().err


def test_sample_intake_and_outcomes(tmp_path, taxonomy):
    """The sample outcomes file (fictional) belongs to the sample intake's clients."""
    oc = pd.read_csv(ROOT / "examples" / "outcomes_sample.csv", dtype=str, keep_default_na=False)
    intake = pd.read_csv(ROOT / "examples" / "intake_sample.csv", dtype=str, keep_default_na=False)
    assert set(oc["client_id"]) <= set(intake["client_id"]) and "intake_date" in intake.columns
    assert oc["note"].str.contains("fictional").all()
    good, msgs = read_outcomes(oc)
    assert len(good) == len(oc) - 2 and len(msgs) == 2          # one unknown event, one bad date, on purpose
