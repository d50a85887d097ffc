"""The one engine (issue 11): library, command line and batch give the same answers."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matcher.cli import main
from matcher.engine import Engine
from matcher.pathways import ClientContext

ROOT = Path(__file__).parents[1]
KEYS = ["onet_code", "occupation_source", "status", "plan_route", "plan_bridge", "plan_route_kind", "plan_licence_id",
        "plan_fees_usd", "plan_loan_usd", "plan_months_to_first_paycheck", "plan_loan_schedule", "pathway_1",
        "opening_1", "opening_2"]


@pytest.fixture(scope="module")
def engine():
    return Engine(openings=ROOT / "examples" / "openings_louisville.csv")


def test_library_and_command_line_agree_on_the_sample_intake(engine, tmp_path):
    out = tmp_path / "scored.csv"
    assert main(["score", str(ROOT / "examples" / "intake_sample.csv"), "--openings",
                 str(ROOT / "examples" / "openings_louisville.csv"), "-o", str(out), "--no-progress",
                 "--n-jobs", "1"]) == 0
    cli = pd.read_csv(out, dtype=str, keep_default_na=False)
    intake = pd.read_csv(ROOT / "examples" / "intake_sample.csv", dtype=str, keep_default_na=False)
    lib = engine.assess_many(intake.to_dict("records"))
    assert len(lib) == len(cli) == 66
    for i, a in enumerate(lib):
        got = {k: ("" if a.row.get(k) is None else str(a.row.get(k, ""))) for k in KEYS}
        want = {k: cli.at[i, k] for k in KEYS}
        assert got == want, (i, {k: (got[k], want[k]) for k in KEYS if got[k] != want[k]})


def test_engine_plan_equals_the_planner(engine):
    from matcher.plan import Planner

    c = ClientContext("29-1141.00", english="B1", zip_code="40214")
    assert engine.plan(c).to_dict() == Planner.from_settings(engine.settings).plan(c).to_dict()


def test_given_onet_code_is_used_and_checked(engine):
    a = engine.assess({"client_id": "x", "onet_code": "29-1215.00"})
    assert a.row["onet_code"] == "29-1215.00" and a.row["occupation_source"] == "given" and a.plan is not None
    b = engine.assess({"client_id": "y", "onet_code": "99-9999.99", "previous_title": "welder"})
    assert b.row["onet_code"] == "51-4121.00" and "not an O*NET-SOC 2019 code" in b.row["messages"]


def test_rank_openings_and_clients(engine):
    top = engine.rank_openings({"previous_title": "registered nurse", "zip": "40214"}, top=3)
    assert len(top) == 3 and all(m.onet_code.startswith("29-1141") for m in top)
    ranked = engine.rank_clients(top[0].opening_id, [{"client_id": "cook", "previous_title": "cook"},
                                                     {"client_id": "rn", "previous_title": "registered nurse"}])
    assert [m.client_id for m in ranked][0] == "rn"
